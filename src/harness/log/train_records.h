// The ResNet trainer's records (SPEC §5-6) with the reference's fields: batch, epoch, eval,
// final and summary, plus their console lines ("[resnet_cifar_<type>] ...").
#pragma once

#include <optional>
#include <string>

#include "harness/log/records.h"
#include "train/trainer/trainer.h"

namespace chimera {

// What every training record shares: the run's identity and the controller's settings.
struct TrainRecordContext {
  RecordContext base;  // run_id "train_resnet_cifar-mode-<mode>-seed-<seed>", script, mode, ...
  Config config;
  std::string target_branch;
  double target_zero_ratio = 0;
  std::string controller_frequency, controller_affects;
};

// alpha_target_mean as the reference reports it after a controller step: the new mean of the
// controlled alpha (which is the override when the override is controlled).
struct ControlView {
  double error = 0, delta = 0, alpha_target_mean = 0, alpha_next_mean = 0;
};

// The ternary statistics of a model as record fields (ratios, effective bits, alphas, flip
// rates), shared by every trainer's records.
void add_ternary_fields(Json& r, const ModelStats& s);

Json batch_record(const TrainRecordContext& ctx, const BatchEvent& e, const ControlView& control);
Json epoch_record(const TrainRecordContext& ctx, const EpochEvent& e, const ControlView& control);
// Evaluation after an epoch; alpha_next_mean is the epoch record's.
Json eval_record(const TrainRecordContext& ctx, const EpochEvent& e, double alpha_next_mean);
Json final_record(const Json& last_epoch_record);
Json train_summary_record(const TrainRecordContext& ctx, const Json& final);

std::string console_line(const Json& record);  // the reference's prefix and formatter per type

}  // namespace chimera
