#include "dp/app_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "dp/app_options.hpp"
#include "dp/text.hpp"

namespace synmill::dp {
namespace {

constexpr size_t kMaxListeners = 64;  // the TCP core's listener table
constexpr uint32_t kMaxWindowField = 65535;

std::string dashed(std::string_view name) { return fmt::format("--{}", name); }

std::string unknown_option(std::string_view name) {
  std::vector<std::string_view> names;
  for (const AppOption& o : app_options()) names.push_back(o.name);
  const auto close = text::closest(name, names);
  if (close) return fmt::format("unknown option '--{}' (did you mean '--{}'?)", name, *close);
  return fmt::format("unknown option '--{}': see --help", name);
}

std::string unknown_key(std::string_view key) {
  std::vector<std::string_view> names;
  for (const AppOption& o : app_options()) {
    if (!o.command_line_only) names.push_back(o.name);
  }
  if (key == "config") return "'config' cannot be set in a config file (files do not include files)";
  const auto close = text::closest(key, names);
  if (close) return fmt::format("unknown key '{}' (did you mean '{}'?)", key, *close);
  return fmt::format("unknown key '{}': keys are the option names of --help without '--'", key);
}

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

// One option as the command line gave it.
struct Given {
  const AppOption* opt;
  std::string value;
};

Result<std::vector<Given>> tokenize(std::span<const std::string> args) {
  std::vector<Given> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-h") {
      out.push_back({find_app_option("help"), "true"});
      continue;
    }
    if (!a.starts_with("--") || a.size() == 2) {
      return Error{fmt::format("unexpected argument '{}': options start with -- (see --help)", a)};
    }
    const size_t eq = a.find('=');
    const std::string_view name = a.substr(2, eq == std::string_view::npos ? a.npos : eq - 2);
    const AppOption* opt = find_app_option(name);
    if (opt == nullptr) return Error{unknown_option(name)};
    if (opt->kind == OptionKind::kFlag) {
      if (eq != std::string_view::npos) return Error{fmt::format("{} takes no value", dashed(name))};
      out.push_back({opt, "true"});
      continue;
    }
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size() && !std::string_view(args[i + 1]).starts_with("--")) {
      value = args[++i];
    } else {
      return Error{fmt::format("{} needs a value: {} {}", dashed(name), dashed(name), opt->metavar)};
    }
    value = text::trim(value);
    if (value.empty()) {
      return Error{fmt::format("{} needs a value: {} {}", dashed(name), dashed(name), opt->metavar)};
    }
    out.push_back({opt, std::string(value)});
  }
  return out;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{fmt::format("--config: cannot read '{}': {}", path, std::strerror(errno))};
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

constexpr size_t kHelpColumn = 30;
constexpr size_t kHelpWidth = 100;

// Splits `text` at blanks into lines of at most `width` characters.
std::vector<std::string> wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines(1);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    if (!lines.back().empty()) lines.back() += ' ';
    lines.back() += word;
    pos = end + 1;
  }
  return lines;
}

bool exists_dir(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_directory(path, ec);
}

}  // namespace

Result<void> parse_config_text(std::string_view text, std::string_view path, AppConfig& cfg) {
  std::map<std::string_view, size_t, std::less<>> first_line;
  for (const text::SettingLine& setting : text::setting_lines(text)) {
    const size_t line_no = setting.no;
    const std::string_view line = setting.text;

    const size_t eq = line.find('=');
    std::string key(text::trim(line.substr(0, eq)));
    for (char& ch : key) {
      if (ch == '_') ch = '-';
    }
    if (key.starts_with("--")) key.erase(0, 2);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : unquote(text::trim(line.substr(eq + 1)));
    const AppOption* opt = find_app_option(key);
    const auto where = [&] { return fmt::format("{}:{}", path, line_no); };
    if (key.empty()) {
      return Error{fmt::format("{}: expected 'key = value', got '{}'", where(), line)};
    }
    if (opt == nullptr || opt->command_line_only) {
      return Error{fmt::format("{}: {}", where(), unknown_key(key))};
    }
    if (eq == std::string_view::npos && opt->kind != OptionKind::kFlag) {
      return Error{fmt::format("{}: expected '{} = {}', got '{}'", where(), key, opt->metavar, line)};
    }
    if (opt->kind != OptionKind::kList) {
      if (const auto it = first_line.find(opt->name); it != first_line.end()) {
        return Error{fmt::format("{}: duplicate key '{}' (first set on line {}): keep one", where(), key,
                                 it->second)};
      }
      first_line.emplace(opt->name, line_no);
    }
    std::string normalized;
    if (opt->kind == OptionKind::kFlag) {
      if (eq == std::string_view::npos) {
        normalized = "true";
      } else {
        const auto b = parse_bool(value);
        if (!parsed_ok(b)) return Error{fmt::format("{}: {}: {}", where(), key, std::get<1>(b))};
        normalized = std::get<0>(b) ? "true" : "false";
      }
      value = normalized;
    }
    if (value.empty()) {
      return Error{fmt::format("{}: missing value for '{}': write '{} = {}'", where(), key, key,
                               opt->metavar)};
    }
    if (auto err = opt->set(cfg, value)) return Error{fmt::format("{}: {}: {}", where(), key, *err)};
  }
  return {};
}

Result<AppConfig> parse_app_args(std::span<const std::string> args, bool listeners_optional) {
  auto given = tokenize(args);
  if (!given) return Error{given.error()};
  AppConfig cfg;
  cfg.listeners_optional = listeners_optional;
  const Given* config = nullptr;
  for (const Given& g : *given) {
    if (g.opt->name == "help") cfg.help = true;
    if (g.opt->name != "config") continue;
    if (config != nullptr) {
      return Error{fmt::format("--config is given twice ('{}' and '{}'): give one file", config->value,
                               g.value)};
    }
    config = &g;
  }
  if (cfg.help) return cfg;
  if (config != nullptr) {
    auto content = read_file(config->value);
    if (!content) return Error{content.error()};
    if (auto r = parse_config_text(*content, config->value, cfg); !r) return Error{r.error()};
    cfg.config_file = config->value;
  }
  std::vector<const AppOption*> cleared;
  for (const Given& g : *given) {
    if (g.opt->kind == OptionKind::kList && std::find(cleared.begin(), cleared.end(), g.opt) == cleared.end()) {
      g.opt->clear(cfg);  // the command line's list replaces the file's
      cleared.push_back(g.opt);
    }
    if (auto err = g.opt->set(cfg, g.value)) {
      return Error{fmt::format("{}: {}", dashed(g.opt->name), *err)};
    }
  }
  if (auto r = check_config(cfg); !r) return Error{r.error()};
  return cfg;
}

Result<void> check_config(const AppConfig& cfg) {
  const tcp::StackConfig& t = cfg.tcp;
  if (cfg.addrs.empty()) {
    return Error{"no address: pass --addr A.B.C.D/P or X:X::X/P (e.g. --addr 198.18.0.1/24)"};
  }
  // --connect opens from the first address of the peer's family.
  for (const ConnectSpec& c : cfg.connects) {
    if (std::none_of(cfg.addrs.begin(), cfg.addrs.end(), [&c](const Address& a) { return a.v6 == c.v6; })) {
      return Error{fmt::format("--connect {}: an {} peer needs an {} --addr ({})", format_connect(c),
                               c.v6 ? "IPv6" : "IPv4", c.v6 ? "IPv6" : "IPv4", c.v6 ? "X:X::X/P" : "A.B.C.D/P")};
    }
  }
  if (cfg.listeners.empty() && !cfg.listeners_optional) {
    return Error{"no listener: pass --listen PORT:APP (e.g. --listen 80:http)"};
  }
  if (cfg.listeners.size() > kMaxListeners) {
    return Error{fmt::format("--listen: {} listeners given, at most {} are supported",
                             cfg.listeners.size(), kMaxListeners)};
  }
  if (t.rto_min > t.rto_max) {
    return Error{fmt::format("--rto-min {} is above --rto-max {}: lower --rto-min or raise --rto-max",
                             t.rto_min.count_ms(), t.rto_max.count_ms())};
  }
  if (t.rto_initial < t.rto_min || t.rto_initial > t.rto_max) {
    return Error{fmt::format("--rto-initial {} is outside --rto-min {} .. --rto-max {}",
                             t.rto_initial.count_ms(), t.rto_min.count_ms(), t.rto_max.count_ms())};
  }
  if (uint64_t{t.rcv_wnd} > (uint64_t{kMaxWindowField} << t.wscale)) {
    uint8_t need = 0;
    while ((uint64_t{kMaxWindowField} << need) < t.rcv_wnd) ++need;
    return Error{fmt::format("--rcv-wnd {} needs a window scale of at least {} (--wscale is {})",
                             t.rcv_wnd, need, t.wscale)};
  }
  if (t.max_orphans > t.max_conns) {
    return Error{fmt::format("--max-orphans {} is above --max-conns {}: orphans live in the connection table",
                             t.max_orphans, t.max_conns)};
  }
  if (t.pool_reserve >= t.send_chunks) {
    return Error{fmt::format("--pool-reserve {} leaves no chunk of --send-chunks {} beyond the reserve",
                             t.pool_reserve, t.send_chunks)};
  }
  const uint64_t pool = uint64_t{t.send_chunks} * t.chunk_size;
  if (t.send_buf > pool) {
    return Error{fmt::format(
        "--send-buf {} is larger than the whole send pool (--send-chunks {} x {} bytes = {}): raise "
        "--send-chunks or lower --send-buf",
        format_bytes(t.send_buf), t.send_chunks, t.chunk_size, format_bytes(pool))};
  }
  return {};
}

std::string help_text(std::string_view program) {
  std::string out = fmt::format(
      "usage: {} [EAL options] -- [options]\n"
      "\n"
      "synmill terminates TCP on a DPDK port. EAL options come before '--', e.g.\n"
      "  -l 0-3                    lcores: with one lcore it runs the worker; with more, the first\n"
      "                            (main) lcore prints status and each other lcore runs a worker\n"
      "  --vdev=net_tap0,iface=syn0  a virtual port (TAP), or -a <PCI address> for a NIC\n"
      "  --file-prefix=synmill     runtime directory name (synmill-ctl, dpdk-dumpcap find it by it)\n"
      "  --no-huge -m 1024         run without hugepages\n",
      program);
  std::string_view section;
  const AppConfig defaults;
  for (const AppOption& o : app_options()) {
    if (o.section != section) {
      section = o.section;
      out += fmt::format("\n{}:\n", section);
    }
    std::string left = fmt::format("  --{}", o.name);
    if (!o.metavar.empty()) left += fmt::format(" {}", o.metavar);
    std::string help(o.help);
    const std::string def = o.show(defaults);
    if (o.kind == OptionKind::kValue && !def.empty() && !o.command_line_only) {
      help += fmt::format(" (default\x01{})", def);  // \x01: a space wrap() keeps
    }
    if (left.size() >= kHelpColumn) {
      out += left + "\n";
      left.clear();
    }
    for (std::string line : wrap(help, kHelpWidth - kHelpColumn)) {
      std::replace(line.begin(), line.end(), '\x01', ' ');
      out += fmt::format("{:<{}}{}\n", left, kHelpColumn, line);
      left.clear();
    }
  }
  out += fmt::format(
      "\n"
      "Every option may also be set in the --config file as 'name = value' ('#' starts a comment;\n"
      "flags take true or false); the command line overrides the file, and a repeatable option on\n"
      "the command line replaces the file's list.\n"
      "\n"
      "Signals: SIGINT or SIGTERM stops accepting, closes connections with FIN for up to --grace\n"
      "seconds, then resets the rest and exits; a second signal skips the grace period.\n"
      "\n"
      "Observe it: synmill-ctl --file-prefix <prefix> stats|states|conns|config|ss\n"
      "Capture its packets: dpdk-dumpcap --file-prefix <prefix> -w out.pcapng (needs hugepages:\n"
      "dpdk-dumpcap attaches as a secondary process, which a --no-huge synmill cannot host)\n"
      "\n"
      "Exit status: 0 after a clean shutdown, 1 when start-up fails, 2 for a bad option or file.\n");
  return out;
}

std::vector<std::pair<std::string, std::string>> describe_config(const AppConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const AppOption& o : app_options()) {
    if (o.name == "help") continue;
    out.emplace_back(std::string(o.name), o.show(cfg));
  }
  return out;
}

#ifndef SYNMILL_DATADIR
#define SYNMILL_DATADIR "/usr/local/share"
#endif

std::vector<std::string> drivers_config_candidates() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("SYNMILL_DRIVERS_CONFIG"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back((exe.parent_path() / ".." / ".." / "drivers-config").lexically_normal().string());
    candidates.push_back(
        (exe.parent_path() / ".." / "share" / "synmill" / "drivers-config").lexically_normal().string());
  }
  candidates.emplace_back("drivers-config");
  candidates.emplace_back(SYNMILL_DATADIR "/synmill/drivers-config");
  candidates.emplace_back("/usr/share/synmill/drivers-config");
  return candidates;
}

std::string default_drivers_config_dir() {
  for (const std::string& c : drivers_config_candidates()) {
    if (exists_dir(c)) return c;
  }
  return {};
}

std::vector<std::string> with_eal_args(const std::vector<std::string>& argv, const AppConfig& cfg) {
  const auto dashes = std::find(argv.begin(), argv.end(), "--");
  const bool has_eal = !argv.empty() && dashes != argv.begin() + 1;
  if (has_eal || cfg.eal_args.empty()) return argv;
  std::vector<std::string> out;
  out.push_back(argv.empty() ? std::string("synmill") : argv.front());
  out.insert(out.end(), cfg.eal_args.begin(), cfg.eal_args.end());
  out.emplace_back("--");
  if (dashes != argv.end()) out.insert(out.end(), dashes + 1, argv.end());
  return out;
}

}  // namespace synmill::dp
