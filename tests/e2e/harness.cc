#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern "C" char** environ;

namespace kiln::e2e {
namespace fs = std::filesystem;

TempDir::TempDir() {
  char tmpl[] = "/tmp/kiln-e2e-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::Write(const std::string& relative, const std::string& content) const {
  fs::path p = path_ / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0;
  ::close(fd);
  return ok ? ntohs(a.sin_port) : 0;
}

bool Running(int pid) {
  std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

RunResult RunKiln(const std::vector<std::string>& args, const fs::path& cwd,
                  const std::vector<std::string>& extra_env, int timeout_s) {
  std::vector<std::string> argv = {KILN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, cwd, extra_env, timeout_s);
}

namespace {

// The environment children get: ours without KILN_* (the tests set those), plus extra_env.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra_env) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).starts_with("KILN_")) continue;
    env.emplace_back(*e);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return env;
}

// Starts argv in cwd with stdin /dev/null and stdout/stderr on out_fd/err_fd.
pid_t Spawn(std::vector<std::string> argv, const fs::path& cwd,
            const std::vector<std::string>& extra_env, int out_fd, int err_fd) {
  std::vector<std::string> env = ChildEnvironment(extra_env);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> av, ev;
  for (auto& a : argv) av.push_back(a.data());
  av.push_back(nullptr);
  for (auto& e : env) ev.push_back(e.data());
  ev.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, av[0], &fa, nullptr, av.data(), ev.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + " failed");
  return pid;
}

int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

RunResult RunProcess(const std::vector<std::string>& argv, const fs::path& cwd,
                     const std::vector<std::string>& extra_env, int timeout_s) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = -1;
  try {
    pid = Spawn(argv, cwd, extra_env, out[1], err[1]);
  } catch (...) {
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    throw;
  }
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (open_fds > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, 1000) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else {
        fds[i].fd = -fds[i].fd - 1;
        --open_fds;
      }
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = ExitCode(status);
  return r;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const fs::path& cwd,
                                     const std::vector<std::string>& extra_env) {
  int out = ::open((output_.path() / "out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  int err = ::open((output_.path() / "err").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  try {
    if (out < 0 || err < 0) throw std::runtime_error("open output files");
    pid_ = Spawn(argv, cwd, extra_env, out, err);
  } catch (...) {
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    throw;
  }
  ::close(out);
  ::close(err);
}

BackgroundProcess::~BackgroundProcess() {
  if (exit_code_ >= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

bool BackgroundProcess::Exited() {
  if (exit_code_ >= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exit_code_ = ExitCode(status);
  return true;
}

RunResult BackgroundProcess::Wait(int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!Exited()) {
    if (std::chrono::steady_clock::now() > deadline) {
      Signal(SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_code_ = ExitCode(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {.exit_code = exit_code_, .out = Out(), .err = Err()};
}

void BackgroundProcess::Signal(int signal) {
  if (exit_code_ < 0) ::kill(pid_, signal);
}

std::string BackgroundProcess::Out() const { return ReadText(output_.path() / "out"); }
std::string BackgroundProcess::Err() const { return ReadText(output_.path() / "err"); }

std::unique_ptr<BackgroundProcess> StartKiln(const std::vector<std::string>& args,
                                             const fs::path& cwd,
                                             const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {KILN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<BackgroundProcess>(argv, cwd, extra_env);
}

}  // namespace kiln::e2e
