#include "exec/shell_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/files.h"
#include "base/ids.h"

namespace kiln::exec {
namespace fs = std::filesystem;
namespace {

constexpr size_t kReadChunk = 1024 * 1024;
constexpr int64_t kOutputRestMs = 5;

// The driver loop. Requests arrive one per line on fd 3; each reply ends in NUL on fd 4.
//   b<i> <j>    run commands i..j in order, stopping at the first that fails; before each,
//               print the marker line "\036<token> <k>" to the output; reply "<k> <status>"
//   s<N>=<V>    export N=V in the session
//   g<N>        reply with the value of $N
//   x<T>        reply with T expanded as inside double quotes
//   q           exit
// Each command k runs in a subshell through __kiln_x<k>; those that may change state (see
// MayChangeState) write it on exit and the driver reads it back at top level (inside a
// function bash would make the declared variables local). The status waits in $1 meanwhile:
// reading the state back restores the driver's own variables as the subshell saw them.
constexpr char kDriverLoop[] = R"SH(
__kiln_save() { { set; export -p; } > "$__kiln_sf"; }
while IFS= read -r __kiln_op <&3; do
  case $__kiln_op in
  b*)
    __kiln_op=${__kiln_op#b}; __kiln_i=${__kiln_op%% *}; __kiln_n=${__kiln_op##* }
    while :; do
      printf '\036%s %s\n' "$__kiln_mk" "$__kiln_i"
      "__kiln_x$__kiln_i"; set -- "$?"
      if [ -s "$__kiln_sf" ]; then
        . "$__kiln_sf" 2>/dev/null; cd -- "$PWD" 2>/dev/null; : > "$__kiln_sf"
      fi
      __kiln_st=$1
      [ "$__kiln_st" -ne 0 ] || [ "$__kiln_i" -ge "$__kiln_n" ] && break
      __kiln_i=$((__kiln_i + 1))
    done
    printf '%s %s\0' "$__kiln_i" "$__kiln_st" >&4 ;;
  s*) __kiln_op=${__kiln_op#s}; export "${__kiln_op%%=*}=${__kiln_op#*=}"; printf '\0' >&4 ;;
  g*) eval "printf '%s\0' \"\${${__kiln_op#g}}\"" >&4 ;;
  x*) eval "__kiln_v=\"${__kiln_op#x}\"" 2>&1; printf '%s\0' "$__kiln_v" >&4 ;;
  q) exit 0 ;;
  esac
done
)SH";

// The script `su USER -c` runs for one run-as command (buildspec run-as). The session's
// variables and cwd arrive on fd 5 (written by the driver's subshell: no file the user
// would have to open, since the scratch dir is root's 0700) and leave on fd 6 (the state
// file, opened by root), so `cd` and `export` still carry to the next command and phase.
// The user's own HOME, USER and LOGNAME (as su set them) hold while the command runs; the
// session's come back with the state, so they do not leak into later commands.
constexpr char kRunAsPrefix[] =
    "__kiln_uh=$HOME __kiln_uu=$USER __kiln_ul=$LOGNAME\n"
    "eval \"$(cat <&5)\" 2>/dev/null; exec 5<&-; cd -- \"$PWD\" 2>/dev/null\n"
    "__kiln_sh=$HOME __kiln_su=$USER __kiln_sl=$LOGNAME\n"
    "HOME=$__kiln_uh USER=$__kiln_uu LOGNAME=$__kiln_ul\n"
    "trap 'HOME=$__kiln_sh USER=$__kiln_su LOGNAME=$__kiln_sl; { set; export -p; } >&6' EXIT\n"
    "eval ";

// The driver's helper for run-as commands: $1 the user, $2 the script for `su -c`. An
// unknown user fails the command with a line saying so; the command's stdin stays its own.
constexpr char kRunAsHelper[] = R"SH(
__kiln_as() {
  if ! id -u "$1" >/dev/null 2>&1; then
    printf 'run-as: there is no user %s in this build environment\n' "$1" >&2; return 1
  fi
  exec 7<&0
  { set; export -p; } | su -s "$__kiln_ash" "$1" -c "$2" 5<&0 0<&7 7<&- 6>"$__kiln_sf"
}
)SH";

bool IsName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The driver's first line gives the build CodeBuild's umask (022) while Kiln itself runs
// with 077. Set by the shell for itself, because posix_spawn cannot set a child's umask and
// changing ours around the spawn would race with every other thread creating files.
std::string DriverScript(const ShellOptions& o, const fs::path& state_file,
                         const std::string& token) {
  std::string s =
      "umask 022\n__kiln_sf=" + ShellQuote(state_file.string()) + "\n__kiln_mk=" + token + "\n";
  bool run_as = std::any_of(o.run_as.begin(), o.run_as.end(), [](auto& u) { return !u.empty(); });
  if (run_as) {
    // su wants the shell's path; busybox's ash names its own applets without one.
    s += "__kiln_ash=$(command -v " + ShellQuote(o.shell) +
         ")\ncase $__kiln_ash in /*) ;; *) __kiln_ash=/bin/${__kiln_ash##*/} ;; esac" +
         kRunAsHelper;
  }
  for (size_t i = 0; i < o.commands.size(); ++i) {
    std::string n = std::to_string(i);
    s += "__kiln_c" + n + "() { eval " + ShellQuote(o.commands[i]) + "\n}\n";
    const std::string* user = i < o.run_as.size() && !o.run_as[i].empty() ? &o.run_as[i] : nullptr;
    if (user) {
      s += "__kiln_x" + n + "() { ( exec 3<&- 4>&-; __kiln_as " + ShellQuote(*user) + " " +
           ShellQuote(kRunAsPrefix + ShellQuote(o.commands[i])) + " ); }\n";
    } else if (MayChangeState(o.commands[i], o.shell)) {
      s +=
          "__kiln_x" + n + "() { ( exec 3<&- 4>&-; trap __kiln_save EXIT; __kiln_c" + n + " ); }\n";
    } else {
      s += "__kiln_x" + n + "() { ( exec 3<&- 4>&-; __kiln_c" + n + " ); }\n";
    }
  }
  return s + kDriverLoop;
}

int PollTimeout(int64_t deadline_ms) {
  if (deadline_ms <= 0) return -1;
  int64_t left = deadline_ms - base::MonotonicMillis();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

// Shell state (variables, cwd) changes only through an assignment (which needs '=', also in
// ${x:=y} and $((x=1))) or a builtin that sets it. A command with neither runs without the
// state round trip: the fork is then all it costs. Under bash, earlier commands may have
// defined functions that change state when called, so every command syncs there.
bool MayChangeState(std::string_view command, std::string_view shell) {
  if (shell != "sh" && shell != "/bin/sh" && shell != "dash" && shell != "/bin/dash") return true;
  if (command.find('=') != std::string_view::npos) return true;
  static constexpr std::string_view kWords[] = {
      "cd",  "export", "unset", "readonly", "read",    "set",     "shift",   "getopts", "eval",
      ".",   "source", "pushd", "popd",     "local",   "declare", "typeset", "alias",   "unalias",
      "let", "exec",   "trap",  "umask",    "command", "builtin", "hash"};
  for (std::string_view w : kWords) {
    for (size_t at = command.find(w); at != std::string_view::npos; at = command.find(w, at + 1)) {
      bool starts = at == 0 || !IsWordChar(command[at - 1]);
      size_t end = at + w.size();
      bool ends = end == command.size() || !IsWordChar(command[end]);
      if (w == ".") {  // `.` as a word: alone, not part of "./x", "a.b" or "..".
        starts = at == 0 || std::isspace(static_cast<unsigned char>(command[at - 1])) ||
                 command[at - 1] == ';' || command[at - 1] == '&' || command[at - 1] == '|';
        ends = end == command.size() || std::isspace(static_cast<unsigned char>(command[end]));
      }
      if (starts && ends) return true;
    }
  }
  return false;
}

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

base::Result<std::unique_ptr<ShellSession>> ShellSession::Start(const ShellOptions& o,
                                                                OutputSink* sink, int cancel_fd) {
  return Start(o, std::make_unique<HostLauncher>(o.tree_token), sink, cancel_fd);
}

base::Result<std::unique_ptr<ShellSession>> ShellSession::Start(
    const ShellOptions& o, std::unique_ptr<DriverLauncher> launcher, OutputSink* sink,
    int cancel_fd) {
  std::unique_ptr<ShellSession> s(new ShellSession());
  s->sink_ = sink;
  s->launcher_ = std::move(launcher);
  s->cancel_fd_ = cancel_fd;
  s->scratch_dir_ = o.scratch_dir;
  std::string token = base::NewUuid();
  token.erase(std::remove(token.begin(), token.end(), '-'), token.end());
  s->marker_ = "\x1e" + token + " ";
  s->read_buf_.resize(kReadChunk);
  std::error_code ec;
  fs::create_directories(o.scratch_dir, ec);
  if (ec) return base::IoError(o.scratch_dir.string(), ec.value());
  ::chmod(o.scratch_dir.c_str(), 0700);
  // Made here, under Kiln's umask: the driver only truncates it, so the variables it holds
  // between two commands (secrets among them) are never readable by others.
  base::UniqueFd state(
      ::open((o.scratch_dir / "state").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!state.valid()) return base::IoError((o.scratch_dir / "state").string(), errno);
  fs::path driver = o.scratch_dir / "driver.sh";
  if (auto st = base::WriteFileAtomic(driver, DriverScript(o, o.scratch_dir / "state", token),
                                      base::Durability::kNoSync);
      !st.ok())
    return st;

  auto channels = s->launcher_->Launch({.shell = o.shell,
                                        .script = driver,
                                        .scratch_dir = o.scratch_dir,
                                        .cwd = o.cwd,
                                        .env = o.env});
  if (!channels.ok()) return channels.status();
  s->out_ = std::move(channels->out);
  s->ctl_ = std::move(channels->ctl);
  s->ack_ = std::move(channels->ack);
  return s;
}

ShellSession::~ShellSession() { Close(0); }

size_t ShellSession::DrainOutput() {
  size_t total = 0;
  for (;;) {
    ssize_t n = ::read(out_.get(), read_buf_.data(), read_buf_.size());
    if (n > 0) {
      Deliver({read_buf_.data(), static_cast<size_t>(n)});
      total += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return total;  // EAGAIN (nothing more now) or EOF
  }
}

// Passes output to the sink, turning the driver's marker lines into OnCommandStart calls.
// A marker cut by the end of a read is held back until the next one.
void ShellSession::Deliver(std::string_view data) {
  std::string joined;
  if (!carry_.empty()) {
    joined = std::move(carry_) + std::string(data);
    carry_.clear();
    data = joined;
  }
  size_t pos = 0;
  while (pos < data.size()) {
    size_t at = data.find('\x1e', pos);
    if (at == std::string_view::npos) break;
    if (at > pos) sink_->OnOutput(data.substr(pos, at - pos));
    std::string_view rest = data.substr(at);
    size_t nl = rest.find('\n');
    if (rest.size() < marker_.size() || (rest.starts_with(marker_) && nl == rest.npos)) {
      if (marker_.starts_with(rest.substr(0, std::min(rest.size(), marker_.size())))) {
        carry_ = std::string(rest);  // maybe a marker: wait for the rest
        return;
      }
    }
    if (rest.starts_with(marker_) && nl != rest.npos) {
      sink_->OnCommandStart(std::strtoull(rest.data() + marker_.size(), nullptr, 10));
      pos = at + nl + 1;
      continue;
    }
    sink_->OnOutput(data.substr(at, 1));  // an ordinary \x1e byte
    pos = at + 1;
  }
  if (pos < data.size()) sink_->OnOutput(data.substr(pos));
}

base::Result<std::string> ShellSession::Request(const std::string& line, int64_t deadline_ms,
                                                CommandOutcome* outcome) {
  *outcome = CommandOutcome::kShellLost;
  if (closed_) return base::Internal("shell session is closed");
  std::string msg = line + "\n";
  busy_ = true;  // until its reply: a request abandoned on timeout or stop leaves it busy
  if (!base::WriteAll(ctl_.get(), msg.data(), msg.size())) {
    return base::Status(base::ErrorKind::kFailed, "the build's shell has exited");
  }
  pollfd fds[3] = {{out_.get(), POLLIN, 0}, {ack_.get(), POLLIN, 0}, {cancel_fd_, POLLIN, 0}};
  // After a small read the output pipe rests for kOutputRestMs: a burst of short commands
  // then wakes us a few times instead of once per line, while a heavy stream (full reads)
  // is read back to back. The reply and a cancel are always watched.
  int64_t rest_until = 0;
  for (;;) {
    if (size_t nul = ack_buf_.find('\0'); nul != std::string::npos) {
      std::string reply = ack_buf_.substr(0, nul);
      ack_buf_.erase(0, nul + 1);
      // The command had exited before the reply was written, so all it wrote is in the pipe.
      DrainOutput();
      *outcome = CommandOutcome::kExited;
      busy_ = false;
      return reply;
    }
    int64_t now = base::MonotonicMillis();
    bool resting = now < rest_until;
    fds[0].fd = resting ? -1 : out_.get();
    int timeout = PollTimeout(deadline_ms);
    if (resting)
      timeout = timeout < 0 ? int(rest_until - now) : std::min<int>(timeout, int(rest_until - now));
    sink_->OnIdle();
    int n = ::poll(fds, cancel_fd_ >= 0 ? 3 : 2, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && deadline_ms > 0 && base::MonotonicMillis() >= deadline_ms) {
      *outcome = CommandOutcome::kTimedOut;
      return base::Status(base::ErrorKind::kFailed, "timed out");
    }
    if (n == 0) continue;
    if (cancel_fd_ >= 0 && (fds[2].revents & POLLIN)) {
      *outcome = CommandOutcome::kCancelled;
      return base::Status(base::ErrorKind::kFailed, "cancelled");
    }
    if (!resting && (fds[0].revents & (POLLIN | POLLHUP))) {
      if (DrainOutput() < kReadChunk / 16) rest_until = base::MonotonicMillis() + kOutputRestMs;
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char buf[4096];
      ssize_t r = ::read(ack_.get(), buf, sizeof buf);
      if (r > 0) {
        ack_buf_.append(buf, static_cast<size_t>(r));
      } else if (r == 0) {
        DrainOutput();
        return base::Status(base::ErrorKind::kFailed, "the build's shell exited unexpectedly");
      }
    }
  }
}

CommandResult ShellSession::Run(size_t index, int64_t deadline_ms) {
  return RunBatch(index, index, deadline_ms);
}

CommandResult ShellSession::RunBatch(size_t first, size_t last, int64_t deadline_ms) {
  CommandResult result{.index = first};
  auto reply = Request("b" + std::to_string(first) + " " + std::to_string(last), deadline_ms,
                       &result.outcome);
  if (reply.ok()) {
    char* end = nullptr;
    result.index = std::strtoull(reply->c_str(), &end, 10);
    result.exit_code = std::atoi(end);
  }
  return result;
}

base::Status ShellSession::SetVariable(const std::string& name, const std::string& value) {
  if (!IsName(name) || value.find('\n') != std::string::npos) {
    return base::InvalidInput("cannot set variable '" + name + "' in the shell");
  }
  CommandOutcome outcome;
  auto reply = Request("s" + name + "=" + value, 0, &outcome);
  return reply.ok() ? base::Status::Ok() : reply.status();
}

base::Result<std::string> ShellSession::GetVariable(const std::string& name) {
  if (!IsName(name)) return base::InvalidInput("invalid variable name '" + name + "'");
  CommandOutcome outcome;
  return Request("g" + name, 0, &outcome);
}

base::Result<std::string> ShellSession::Expand(const std::string& text) {
  if (text.find('\n') != std::string::npos) return base::InvalidInput("newline in expansion");
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  CommandOutcome outcome;
  return Request("x" + escaped, 0, &outcome);
}

void ShellSession::Close(int64_t grace_ms) {
  if (closed_) return;
  closed_ = true;
  if (ctl_.valid()) {
    base::WriteAll(ctl_.get(), "q\n", 2);
    ctl_.Reset();
  }
  if (launcher_) launcher_->End(grace_ms, busy_ ? DriverState::kBusy : DriverState::kIdle);
  DrainOutput();
  if (!carry_.empty()) sink_->OnOutput(std::exchange(carry_, {}));
  std::error_code ec;
  fs::remove_all(scratch_dir_, ec);
}

}  // namespace kiln::exec
