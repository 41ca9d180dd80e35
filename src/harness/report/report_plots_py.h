// The matplotlib script `chimera report` runs (Debian's python3-matplotlib, Agg backend):
// python3 - DATA.json OUT_DIR, reading the figure data the report assembled and writing one PNG
// per figure into OUT_DIR.
#pragma once

namespace chimera {

extern const char* const kReportPlotsPy;

}  // namespace chimera
