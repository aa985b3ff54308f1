// Loading named tensors (state dicts written by PyTorch) into our modules.
//
// torch.save(model.state_dict(), f) pickles a collections.OrderedDict (with its _metadata
// attribute), which LibTorch 1.13's unpickler turns into None ("Expected GenericDict but got
// None"), and a dict of one item with SETITEM, an opcode it does not know. read_pytorch_state_dict
// therefore reads the zip archive itself and rewrites the pickle before unpickling it (see
// libtorch_readable_pickle); tensors are then rebuilt by LibTorch exactly as in pickle_load.
#include <caffe2/serialize/file_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/nn/module.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "fer/core/error.hpp"
#include "fer/models/model.hpp"

namespace fer::models {

namespace {
std::string shape_str(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

std::string join(const std::vector<std::string>& v, size_t limit = 20) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < limit; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > limit) s += fmt::format(", ... ({} in all)", v.size());
  return s;
}

/// The key under which a rewritten BUILD stores an OrderedDict's state (its _metadata).
const std::string kStateKey = "fer: OrderedDict state";

/// Size of the argument of pickle opcode `op` at `p` (protocols 0-5), or -1 when unknown.
/// `p` points just past the opcode; `end` bounds the buffer.
int64_t pickle_arg_size(unsigned char op, const char* p, const char* end) {
  auto line = [&](int lines) -> int64_t {
    const char* q = p;
    for (int i = 0; i < lines; ++i) {
      q = static_cast<const char*>(std::memchr(q, '\n', static_cast<size_t>(end - q)));
      if (q == nullptr) return -1;
      ++q;
    }
    return q - p;
  };
  auto le = [&](int bytes) -> int64_t {
    if (end - p < bytes) return -1;
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return static_cast<int64_t>(v);
  };
  switch (op) {
    case '(':
    case '.':
    case '0':
    case '1':
    case '2':
    case 'N':
    case 'Q':
    case 'R':
    case 'a':
    case 'b':
    case 'd':
    case '}':
    case 'e':
    case 'l':
    case ']':
    case 'o':
    case 's':
    case 't':
    case ')':
    case 'u':
    case 0x81:
    case 0x85:
    case 0x86:
    case 0x87:
    case 0x88:
    case 0x89:
    case 0x8f:
    case 0x90:
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x97:
    case 0x98:
      return 0;
    case 'F':
    case 'I':
    case 'L':
    case 'P':
    case 'S':
    case 'V':
    case 'g':
    case 'p':
      return line(1);
    case 'c':
    case 'i':
      return line(2);
    case 'K':
    case 'h':
    case 'q':
    case 0x80:
    case 0x82:
      return 1;
    case 'M':
    case 0x83:
      return 2;
    case 'J':
    case 'j':
    case 'r':
    case 0x84:
      return 4;
    case 'G':
    case 0x95:
      return 8;
    case 'U':
    case 'C':
    case 0x8a:
    case 0x8c: {
      const int64_t n = le(1);
      return n < 0 ? -1 : 1 + n;
    }
    case 'T':
    case 'X':
    case 'B':
    case 0x8b: {
      const int64_t n = le(4);
      return n < 0 ? -1 : 4 + n;
    }
    case 0x8d:
    case 0x8e:
    case 0x96: {
      const int64_t n = le(8);
      return n < 0 ? -1 : 8 + n;
    }
    default:
      return -1;
  }
}

/// The pickle rewritten for LibTorch's unpickler (see the file comment): every
/// collections.OrderedDict() becomes {}, BUILD (the OrderedDict's _metadata) becomes
/// dict[kStateKey] = state, and
/// SETITEM (one item; LibTorch knows only SETITEMS) becomes MARK key value SETITEMS. The MARK
/// goes where the key's bytes begin, found by tracking where each stack element started.
std::string libtorch_readable_pickle(const std::string& in, const std::string& path) {
  static const std::string kGlobal = "collections\nOrderedDict\n";
  const bool has_od = in.find(kGlobal) != std::string::npos;
  std::string out;
  out.reserve(in.size() + 64);
  struct Entry {
    size_t start;  // offset in `out` where the element's bytes begin
    bool mark;
  };
  std::vector<Entry> stack;
  std::set<int64_t> od_memo;  // memo slots holding the OrderedDict class
  enum class State { kNone, kClass, kArgs } state = State::kNone;
  const char* p = in.data();
  const char* end = p + in.size();
  auto fail = [&](const std::string& what) {
    throw DataError(
        fmt::format("{}: cannot read this state dict's pickle ({} at byte {}); save a plain dict "
                    "instead: torch.save(dict(model.state_dict()), f)",
                    path, what, p - in.data()));
  };
  auto pop = [&](size_t n) {
    if (stack.size() < n) fail("stack underflow");
    for (size_t i = 0; i < n; ++i) {
      if (stack.back().mark) fail("unexpected MARK");
      stack.pop_back();
    }
  };
  auto pop_to_mark = [&]() -> size_t {  // returns the mark's start
    while (!stack.empty() && !stack.back().mark) stack.pop_back();
    if (stack.empty()) fail("no MARK");
    const size_t s = stack.back().start;
    stack.pop_back();
    return s;
  };
  auto first_of = [&](size_t n) -> size_t {
    if (stack.size() < n) fail("stack underflow");
    return stack[stack.size() - n].start;
  };
  auto collapse = [&](size_t n) {  // n values in, one out, starting where the first began
    const size_t s = first_of(n);
    pop(n);
    stack.push_back({s, false});
  };
  while (p < end) {
    const auto op = static_cast<unsigned char>(*p);
    const char* arg = p + 1;
    const int64_t n = pickle_arg_size(op, arg, end);
    if (n < 0 || arg + n > end) fail(fmt::format("unknown opcode 0x{:02x}", op));
    const char* next = arg + n;
    auto memo_index = [&]() -> int64_t {
      int64_t v = 0;
      for (int64_t i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(arg[i]);
      return v;
    };
    const size_t here = out.size();
    if (state == State::kClass) {
      if (op == 'q' || op == 'r') {
        od_memo.insert(memo_index());
      } else if (op == ')') {
        state = State::kArgs;
      } else {
        fail("OrderedDict with arguments");
      }
      p = next;
      continue;
    }
    if (state == State::kArgs) {
      if (op != 'R') fail("OrderedDict not built by REDUCE");
      stack.push_back({here, false});
      out += '}';  // EMPTY_DICT
      state = State::kNone;
      p = next;
      continue;
    }
    if (op == 'c' && std::string(arg, static_cast<size_t>(n)) == kGlobal) {
      state = State::kClass;
      p = next;
      continue;
    }
    if ((op == 'h' || op == 'j') && od_memo.count(memo_index())) {
      state = State::kClass;
      p = next;
      continue;
    }
    switch (op) {
      case '(':
        stack.push_back({here, true});
        break;
      case 'q':
      case 'r':
      case 'p':
      case 0x94:
      case 0x80:
      case 0x95:  // memo, protocol, frame
        break;
      case 'Q':
      case 0x85:  // BINPERSID, TUPLE1: one in, one out, same start
        first_of(1);
        break;
      case 'R':
      case 0x81:
      case 0x93:
      case 0x86:  // two in, one out
        collapse(2);
        break;
      case 0x87:
      case 0x92:  // three in, one out
        collapse(3);
        break;
      case 't':
      case 'l':
      case 'd':
      case 0x91:
      case 'o':
      case 'i':
        stack.push_back({pop_to_mark(), false});
        break;
      case 'u':
      case 'e':
      case 0x90:
      case '1':
        pop_to_mark();
        break;
      case 'a':
      case '0':
        pop(1);
        break;
      case 'b':  // BUILD on an OrderedDict -> dict[kStateKey] = state (_metadata), dropped later
        if (has_od) {
          const size_t state_start = first_of(1);
          pop(1);
          std::string key = "(X";
          const auto len = static_cast<uint32_t>(kStateKey.size());
          for (int i = 0; i < 4; ++i) key += static_cast<char>((len >> (8 * i)) & 0xff);
          out.insert(state_start, key + kStateKey);
          out += 'u';
          p = next;
          continue;
        }
        pop(1);
        break;
      case 's': {  // SETITEM -> MARK key value SETITEMS
        const size_t key_start = first_of(2);
        pop(2);
        out.insert(key_start, 1, '(');
        out += 'u';
        p = next;
        continue;
      }
      case '2':
        stack.push_back({here, false});
        break;
      case '.':
        break;
      default:  // everything else pushes one value
        stack.push_back({here, false});
        break;
    }
    out.append(p, next);
    if (op == '.') break;
    p = next;
  }
  return out;
}

c10::IValue unpickle_torch_save(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw DataError(
        fmt::format("{}: not a PyTorch file written by torch.save (zip format, PyTorch >= 1.6): {}", path,
                    std::string(e.what_without_backtrace()).substr(0, 160)));
  }
  FER_CHECK(reader->hasRecord("data.pkl"), DataError,
            "{}: a zip archive without data.pkl, not a torch.save file", path);
  at::DataPtr pkl_ptr;
  size_t pkl_size = 0;
  std::tie(pkl_ptr, pkl_size) = reader->getRecord("data.pkl");
  const std::string pickle =
      libtorch_readable_pickle(std::string(static_cast<const char*>(pkl_ptr.get()), pkl_size), path);
  size_t pos = 0;
  auto read = [&](char* buffer, size_t len) -> size_t {
    len = std::min(len, pickle.size() - pos);
    std::memcpy(buffer, pickle.data() + pos, len);
    pos += len;
    return len;
  };
  auto read_record = [&](const std::string& name) { return std::get<0>(reader->getRecord("data/" + name)); };
  torch::jit::Unpickler unpickler(read, nullptr, nullptr, read_record, c10::nullopt);
  unpickler.set_version(reader->version());
  try {
    return unpickler.parse_ivalue();
  } catch (const c10::Error& e) {
    throw DataError(fmt::format("{}: not a PyTorch state dict ({})", path,
                                std::string(e.what_without_backtrace()).substr(0, 200)));
  }
}

bool all_tensors(const c10::impl::GenericDict& d) {
  for (const auto& item : d) {
    if (item.key().isString() && item.key().toStringRef() == kStateKey) continue;
    if (!item.key().isString() || !item.value().isTensor()) return false;
  }
  return true;
}
}  // namespace

LoadReport load_named_tensors(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                              bool strict) {
  LoadReport report;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      report.missing.push_back(name);
      return;
    }
    used.insert(name);
    if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back(name + ": file " + shape_str(it->second) + " vs model " + shape_str(target));
      return;
    }
    target.copy_(it->second.to(target.dtype()));
  };
  for (auto& p : module.named_parameters(/*recurse=*/true)) assign(p.key(), p.value());
  for (auto& b : module.named_buffers(/*recurse=*/true)) assign(b.key(), b.value());
  for (const auto& [name, t] : tensors) {
    if (!used.count(name)) report.unexpected.push_back(name);
  }
  if (strict && (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())) {
    std::string msg = "weights do not match the model:";
    if (!report.missing.empty()) msg += "\n  missing: " + join(report.missing);
    if (!report.unexpected.empty()) msg += "\n  unexpected: " + join(report.unexpected);
    if (!report.mismatched.empty()) msg += "\n  shape mismatch: " + join(report.mismatched);
    throw DataError(msg);
  }
  return report;
}

std::map<std::string, torch::Tensor> read_pytorch_state_dict(const std::string& path,
                                                             std::string* found_under) {
  FER_CHECK(std::filesystem::exists(path), IoError, "{}: file not found", path);
  FER_CHECK(std::filesystem::is_regular_file(path), IoError, "{}: not a file", path);
  const c10::IValue value = unpickle_torch_save(path);
  FER_CHECK(value.isGenericDict(), DataError, "{}: expected a dict of name -> tensor, got {}", path,
            value.tagKind());
  auto dict = value.toGenericDict();
  std::string under;
  if (!all_tensors(dict)) {
    // A training checkpoint that holds the state dict under a key, e.g.
    // {"state_dict": {...}, "epoch": 30} or the seed code's {"net": {...}, "acc": ..., "epoch": ...}.
    std::vector<std::string> keys, candidates;
    for (const auto& item : dict) {
      if (item.key().isString() && item.key().toStringRef() == kStateKey) continue;
      const std::string key = item.key().isString() ? item.key().toStringRef() : item.key().tagKind();
      keys.push_back(key);
      if (item.value().isGenericDict() && all_tensors(item.value().toGenericDict()) &&
          !item.value().toGenericDict().empty()) {
        candidates.push_back(key);
      }
    }
    FER_CHECK(candidates.size() == 1, DataError,
              "{}: expected a state dict (name -> tensor) or a checkpoint holding exactly one under a key; "
              "found the keys [{}] with {} dicts of tensors among them",
              path, join(keys), candidates.size());
    under = candidates[0];
    dict = dict.at(under).toGenericDict();
  }
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : dict) {
    if (item.key().toStringRef() != kStateKey) out.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  FER_CHECK(!out.empty(), DataError, "{}: the state dict is empty", path);
  if (found_under != nullptr) *found_under = under;
  return out;
}

}  // namespace fer::models
