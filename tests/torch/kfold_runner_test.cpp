// train::run_kfold with a fake fer: a shell script in place of the binary records each command
// and leaves the files a real `fer train` (last.pt) and `fer eval` (eval_test.json) would, so
// the scheduler's decisions (order, --resume, skipping, failures, parallelism, stopping) are
// checked in about a second each, without training. The checks before anything runs read a
// real (tiny, synthetic) dataset.
#include "fer/train/kfold_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fer/config/config.hpp"
#include "fer/core/cpu.hpp"
#include "fer/core/error.hpp"
#include "fer/core/io.hpp"
#include "fer/data/prepare.hpp"
#include "fer/data/synth.hpp"
#include "test_util.hpp"

namespace {
namespace fs = std::filesystem;
using fer::train::KfoldEvent;

// The fake fer. Marker files in the test dir T steer it: fail_<fold dir>_<command> exits 3,
// kill_..._<command> dies by SIGKILL, hang_..._<command> sleeps until signalled (after
// touching T/hanging_<fold dir>), and T/barrier makes train wait (10 s at most) until two folds run.
// T/calls.txt gets "<fold dir> <command>[ resume]" per start; T/concurrency.txt the number of
// fake processes running, seen by each one while it runs.
// clang-format off
constexpr const char* kFakeFer = R"sh(#!/bin/sh
T='@T@'
cmd=$1
shift
dir=
resume=
prev=
for a in "$@"; do
  case $prev in --out|--run) dir=$a ;; esac
  [ "$a" = --resume ] && resume=' resume'
  prev=$a
done
name=$(basename "$dir")
echo "fake fer $cmd $name"
echo "$name $cmd$resume" >>"$T/calls.txt"
: >"$T/running/$name"
if [ "$cmd" = train ] && [ -e "$T/barrier" ]; then
  i=0
  while [ ! -e "$T/released" ] && [ "$(ls "$T/running" | wc -l)" -lt 2 ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  : >"$T/released"
fi
ls "$T/running" | wc -l >>"$T/concurrency.txt"
rm -f "$T/running/$name"
[ -e "$T/fail_${name}_$cmd" ] && exit 3
[ -e "$T/kill_${name}_$cmd" ] && kill -9 $$
if [ -e "$T/hang_${name}_$cmd" ]; then
  : >"$T/hanging_$name"
  exec sleep 30
fi
case $cmd in
  train) : >"$dir/last.pt" ;;
  eval) echo '{"accuracy": 0.8125}' >"$dir/eval_test.json" ;;
esac
)sh";
// clang-format on

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// "started 2 train resume", "failed 2 train exited with 3", "skipped 1", "ready", ...
std::string show(const KfoldEvent& e) {
  static const char* names[] = {"skipped", "ready", "started", "stopped", "failed", "done"};
  std::string s = names[e.kind];
  if (e.kind != KfoldEvent::kReady) s += " " + std::to_string(e.fold);
  if (!e.step.empty()) s += " " + e.step;
  if (e.resuming) s += " resume";
  if (!e.detail.empty()) s += " " + e.detail;
  return s;
}

class KfoldRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fer::data::SynthOptions s;
    s.out = tmp_.str("data");
    s.classes = 3;
    s.per_class = 9;
    s.size = 32;
    s.threads = 1;
    fer::data::write_synthetic_dataset(s);
    config_ = tmp_.str("k.json");
    fer::write_file_atomic(config_,
                           nlohmann::json{{"name", "kf"},
                                          {"seed", 1},
                                          {"device", "cpu"},
                                          {"data",
                                           {{"format", "image_folder"},
                                            {"path", s.out},
                                            {"split", {{"scheme", "stratified_kfold"}, {"folds", 3}}}}},
                                          {"preprocess", {{"size", 32}, {"channels", 1}}},
                                          {"model", {{"name", "resnet18"}, {"width", 4}}},
                                          {"train", {{"epochs", 1}, {"batch_size", 16}}}}
                               .dump(2));
    std::string script = kFakeFer;
    script.replace(script.find("@T@"), 3, tmp_.str());
    fake_ = tmp_.str("fake_fer.sh");
    fer::write_file_atomic(fake_, script);
    fs::permissions(fake_, fs::perms::owner_all);
    fs::create_directories(tmp_.str("running"));
    dir_ = tmp_.str("kf");
  }

  fer::train::KfoldOptions options() {
    fer::train::KfoldOptions o;
    o.config_path = config_;
    o.folds = 3;
    o.threads = 1;
    o.out = dir_;
    o.executable = fake_;
    o.on_event = [this](const KfoldEvent& e) { events_.push_back(show(e)); };
    return o;
  }

  std::string fold(int k) const { return dir_ + "/fold_" + std::to_string(k); }
  void touch(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path).put('\n');
  }
  // A fold dir as a real fer train of this k-fold leaves it (config.json with `overrides`).
  void write_fold_config(int k, std::vector<std::string> overrides) {
    overrides.insert(overrides.end(),
                     {"threads=1", "data.split.folds=3", "data.split.fold=" + std::to_string(k)});
    fer::config::Config c = fer::config::load_config(config_, overrides);
    fer::data::adopt_alignment(c);
    touch(fold(k) + "/config.json");
    fer::write_file_atomic(fold(k) + "/config.json", fer::config::to_json(c).dump(2));
  }
  std::vector<std::string> calls() const { return lines_of(tmp_.str("calls.txt")); }
  nlohmann::json meta() const { return nlohmann::json::parse(read_text(dir_ + "/kfold.json")); }

  fer::test::TempDir tmp_;
  std::string config_, fake_, dir_;
  std::vector<std::string> events_;
};

TEST_F(KfoldRunnerTest, OptionErrorsNameTheFlag) {
  using fer::UsageError;
  using fer::test::error_of;
  auto o = options();
  o.folds = 1;
  EXPECT_HAS(error_of<UsageError>([&] { fer::train::run_kfold(o); }), "--folds 1: expected at least 2");
  o = options();
  o.fold = 4;
  EXPECT_HAS(error_of<UsageError>([&] { fer::train::run_kfold(o); }),
             "--fold 4: out of range, expected 1..3 (--folds 3)");
  o.fold = -1;
  EXPECT_HAS(error_of<UsageError>([&] { fer::train::run_kfold(o); }), "--fold -1: out of range");
  o = options();
  o.jobs = 0;
  EXPECT_HAS(error_of<UsageError>([&] { fer::train::run_kfold(o); }), "--jobs 0: expected at least 1");
  o = options();
  o.config_path = "";
  EXPECT_HAS(error_of<UsageError>([&] { fer::train::run_kfold(o); }), "--config is required");
  o.config_path = tmp_.str("none.json");
  EXPECT_HAS(error_of<UsageError>([&] { fer::train::run_kfold(o); }),
             "--config " + tmp_.str("none.json") + ": no such file");
  o = options();
  o.overrides = {"data.split.scheme=\"ratio\""};
  const auto msg = error_of<fer::ConfigError>([&] { fer::train::run_kfold(o); });
  EXPECT_HAS(msg, "data.split.scheme is \"ratio\"; fer kfold needs a k-fold scheme");
  EXPECT_FALSE(fs::exists(dir_)) << "nothing may be written for a refused k-fold";
  EXPECT_TRUE(events_.empty());
}

TEST_F(KfoldRunnerTest, DatasetThatCannotSplitIsRefusedBeforeAnything) {
  auto o = options();
  o.folds = 10;  // 9 images per class
  EXPECT_THROW(fer::train::run_kfold(o), fer::Error);
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_TRUE(calls().empty());
}

TEST_F(KfoldRunnerTest, FoldDirOfAnotherConfigIsRefusedBeforeAnythingRuns) {
  write_fold_config(2, {"train.lr=0.5"});
  const auto msg = fer::test::error_of<fer::ConfigError>([&] { fer::train::run_kfold(options()); });
  EXPECT_HAS(msg, fold(2) + ": holds a run of another config (differs at /train/lr");
  EXPECT_HAS(msg, "choose another --out");
  EXPECT_TRUE(calls().empty());
  EXPECT_FALSE(fs::exists(dir_ + "/kfold.json"));
  EXPECT_FALSE(fs::exists(fold(1)));
  EXPECT_TRUE(events_.empty());

  fer::write_file_atomic(fold(2) + "/config.json", "{ not json");
  EXPECT_HAS(fer::test::error_of<fer::DataError>([&] { fer::train::run_kfold(options()); }),
             fold(2) + "/config.json");
}

TEST_F(KfoldRunnerTest, RunsTrainThenEvalPerFoldInOrder) {
  auto o = options();
  o.overrides = {"seed=5", "train.lr=0.01"};
  o.threads = 3;
  const auto r = fer::train::run_kfold(o);
  EXPECT_EQ(r.dir, dir_);
  EXPECT_EQ(r.folds, 3);
  EXPECT_EQ(r.done, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(r.failed.empty());
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(calls(), (std::vector<std::string>{"fold_1 train", "fold_1 eval", "fold_2 train", "fold_2 eval",
                                               "fold_3 train", "fold_3 eval"}));
  EXPECT_EQ(events_, (std::vector<std::string>{
                         "ready", "started 1 train", "started 1 eval", "done 1 test accuracy 81.25%",
                         "started 2 train", "started 2 eval", "done 2 test accuracy 81.25%",
                         "started 3 train", "started 3 eval", "done 3 test accuracy 81.25%"}));
  // The fold's log: each command as a shell line, then what the child printed.
  EXPECT_EQ(lines_of(fer::train::kfold_log(dir_, 2)),
            (std::vector<std::string>{"$ fer train --config " + config_ +
                                          " --set seed=5 --set train.lr=0.01 --set threads=3 --set "
                                          "data.split.folds=3 --set data.split.fold=2 --out " +
                                          fold(2) + " --no-progress",
                                      "fake fer train fold_2", "$ fer eval --run " + fold(2) + " --threads 3",
                                      "fake fer eval fold_2"}));
  const auto j = meta();
  EXPECT_EQ(j["folds"], 3);
  EXPECT_EQ(j["scheme"], "stratified_kfold");
  EXPECT_EQ(j["seed"], 5);
  EXPECT_EQ(j["overrides"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"seed=5", "train.lr=0.01"}));
  EXPECT_EQ(j["threads_per_fold"], 3);
  EXPECT_EQ(j["jobs"], 1);
  EXPECT_EQ(j["folds_done"].get<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(j["folds_failed"].empty());
}

TEST_F(KfoldRunnerTest, SkipsDoneFoldsAndResumesFromLastPt) {
  touch(fold(1) + "/eval_test.json");
  write_fold_config(2, {});  // a fold of this k-fold: accepted
  touch(fold(2) + "/last.pt");
  const auto r = fer::train::run_kfold(options());
  EXPECT_EQ(calls(),
            (std::vector<std::string>{"fold_2 train resume", "fold_2 eval", "fold_3 train", "fold_3 eval"}));
  EXPECT_EQ(events_,
            (std::vector<std::string>{"skipped 1", "ready", "started 2 train resume", "started 2 eval",
                                      "done 2 test accuracy 81.25%", "started 3 train", "started 3 eval",
                                      "done 3 test accuracy 81.25%"}));
  EXPECT_EQ(r.done, (std::vector<int>{1, 2, 3}));
  EXPECT_NE(read_text(fer::train::kfold_log(dir_, 2)).find("--no-progress --resume\n"), std::string::npos);

  events_.clear();  // all done: nothing runs
  fs::remove(tmp_.str("calls.txt"));
  EXPECT_EQ(fer::train::run_kfold(options()).done, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(events_, (std::vector<std::string>{"skipped 1", "skipped 2", "skipped 3", "ready"}));
  EXPECT_TRUE(calls().empty());
}

TEST_F(KfoldRunnerTest, ThreadsSetAsAnOverrideAreKept) {
  auto o = options();
  o.fold = 1;
  o.jobs = 1;
  o.overrides = {"threads=1"};
  fer::train::run_kfold(o);
  EXPECT_EQ(meta()["threads_per_fold"], 1) << "--set threads=1 is not replaced by cores / jobs";
  const auto log = lines_of(fer::train::kfold_log(dir_, 1));
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log[0].find("--set threads=1 --set threads=1 "), std::string::npos) << log[0];
  EXPECT_EQ(log[0].find("threads=2"), std::string::npos) << log[0];
}

TEST_F(KfoldRunnerTest, OneFoldOnly) {
  auto o = options();
  o.fold = 2;
  const auto r = fer::train::run_kfold(o);
  EXPECT_EQ(calls(), (std::vector<std::string>{"fold_2 train", "fold_2 eval"}));
  EXPECT_EQ(r.done, std::vector<int>{2});
  EXPECT_FALSE(fs::exists(fold(1)));
  EXPECT_FALSE(fs::exists(fold(3)));
}

TEST_F(KfoldRunnerTest, FailedFoldIsReportedAndTheOthersGoOn) {
  touch(tmp_.str("fail_fold_1_train"));
  touch(tmp_.str("kill_fold_2_eval"));
  const auto r = fer::train::run_kfold(options());
  EXPECT_EQ(calls(), (std::vector<std::string>{"fold_1 train", "fold_2 train", "fold_2 eval", "fold_3 train",
                                               "fold_3 eval"}));
  EXPECT_EQ(events_,
            (std::vector<std::string>{"ready", "started 1 train", "failed 1 train exited with 3",
                                      "started 2 train", "started 2 eval", "failed 2 eval killed by signal 9",
                                      "started 3 train", "started 3 eval", "done 3 test accuracy 81.25%"}));
  EXPECT_EQ(r.failed, (std::vector<int>{1, 2}));
  EXPECT_EQ(r.done, std::vector<int>{3});
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(meta()["folds_failed"].get<std::vector<int>>(), (std::vector<int>{1, 2}));
  EXPECT_EQ(meta()["folds_done"].get<std::vector<int>>(), std::vector<int>{3});
  EXPECT_EQ(fer::train::kfold_log(dir_, 1), fold(1) + "/kfold.log");
}

TEST_F(KfoldRunnerTest, JobsBoundTheFoldsRunningAtOnce) {
  touch(tmp_.str("barrier"));  // train waits until two folds run: proves that two do
  auto o = options();
  o.jobs = 2;
  o.threads = -1;
  const auto r = fer::train::run_kfold(o);
  EXPECT_EQ(r.done, (std::vector<int>{1, 2, 3}));
  const auto seen = lines_of(tmp_.str("concurrency.txt"));
  ASSERT_EQ(seen.size(), 6u);  // 3 folds x (train, eval)
  int most = 0;
  for (const auto& s : seen) most = std::max(most, std::stoi(s));
  EXPECT_EQ(most, 2);
  EXPECT_EQ(meta()["threads_per_fold"], std::max(1, fer::cpu_count() / 2));
  EXPECT_EQ(meta()["jobs"], 2);
  // Folds 1 and 2 start together (their lines may come in either order); fold 3 when a slot is free.
  auto c = calls();
  ASSERT_EQ(c.size(), 6u);
  std::sort(c.begin(), c.begin() + 2);
  EXPECT_EQ(std::vector<std::string>(c.begin(), c.begin() + 2),
            (std::vector<std::string>{"fold_1 train", "fold_2 train"}));
  EXPECT_EQ(events_[0], "ready");
  EXPECT_EQ(events_[1], "started 1 train");
  EXPECT_EQ(events_[2], "started 2 train");
}

TEST_F(KfoldRunnerTest, StopInterruptsTheRunningFoldsAndStartsNothingNew) {
  // The fakes die by the SIGINT they are sent, which they would not if it were ignored (nohup).
  const auto old = std::signal(SIGINT, SIG_DFL);
  touch(tmp_.str("hang_fold_1_train"));
  touch(tmp_.str("hang_fold_2_train"));
  std::atomic<bool> stop{false};
  auto o = options();
  o.jobs = 2;
  o.stop = &stop;
  std::thread stopper([&] {  // stop once both folds' train runs (10 s at most)
    for (int i = 0;
         i < 1000 && !(fs::exists(tmp_.str("hanging_fold_1")) && fs::exists(tmp_.str("hanging_fold_2"))); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop = true;
  });
  const auto r = fer::train::run_kfold(o);
  stopper.join();
  std::signal(SIGINT, old);
  EXPECT_TRUE(r.interrupted);
  EXPECT_TRUE(r.failed.empty());
  EXPECT_TRUE(r.done.empty());
  ASSERT_EQ(events_.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(events_.begin(), events_.begin() + 3),
            (std::vector<std::string>{"ready", "started 1 train", "started 2 train"}));
  std::sort(events_.begin() + 3, events_.end());  // the two end in either order
  EXPECT_EQ(events_[3], "stopped 1 train interrupted");
  EXPECT_EQ(events_[4], "stopped 2 train interrupted");
  auto c = calls();
  std::sort(c.begin(), c.end());
  EXPECT_EQ(c, (std::vector<std::string>{"fold_1 train", "fold_2 train"}));
  EXPECT_FALSE(fs::exists(fold(3)));
  EXPECT_TRUE(meta()["folds_done"].empty());

  // Stopped before anything starts: nothing runs.
  events_.clear();
  fs::remove(tmp_.str("calls.txt"));
  const auto r2 = fer::train::run_kfold(o);
  EXPECT_TRUE(r2.interrupted);
  EXPECT_EQ(events_, std::vector<std::string>{"ready"});
  EXPECT_TRUE(calls().empty());
}

}  // namespace
