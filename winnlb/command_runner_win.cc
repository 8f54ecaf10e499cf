// The real CommandRunner on Windows: CreateProcess with stdout/stderr on pipes, no console
// window, no shell, killed at the time limit. Built only for Windows; the Linux build sees an
// empty translation unit. NOT exercised by the Linux unit tests (they use a fake runner).
//
//   run() ──CreateProcessA──▶ child ──stdout pipe──▶ reader thread ─▶ result.out
//     │                             └─stderr pipe──▶ reader thread ─▶ result.err
//     └──WaitForSingleObject(timeout)──▶ exit code, or TerminateProcess + timed_out
#include "winnlb/command_runner.h"

#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <thread>

namespace rmha::winnlb {
namespace {

// Output beyond this is read and dropped, so a runaway child cannot exhaust memory.
constexpr std::size_t kMaxCapture = 1 << 20;

class Handle {
public:
  Handle() = default;
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  void reset(HANDLE h = nullptr) {
    if (h_ != nullptr && h_ != INVALID_HANDLE_VALUE) {
      CloseHandle(h_);
    }
    h_ = h;
  }
  HANDLE get() const { return h_; }
  HANDLE* out() { return &h_; }

private:
  HANDLE h_ = nullptr;
};

std::error_code lastError() {
  return {static_cast<int>(GetLastError()), std::system_category()};
}

void readAll(HANDLE pipe, std::string& out) {
  char buf[4096];
  DWORD n = 0;
  while (ReadFile(pipe, buf, sizeof buf, &n, nullptr) && n > 0) {
    if (out.size() < kMaxCapture) {
      out.append(buf, n);
    }
  }
}

bool makePipe(Handle& read, Handle& write, SECURITY_ATTRIBUTES& sa) {
  if (!CreatePipe(read.out(), write.out(), &sa, 0)) {
    return false;
  }
  // Only the child's end is inherited.
  return SetHandleInformation(read.get(), HANDLE_FLAG_INHERIT, 0) != 0;
}

} // namespace

WindowsCommandRunner::WindowsCommandRunner(core::Millis timeout) : timeout_(timeout) {}

CommandResult WindowsCommandRunner::run(const Command& cmd) {
  CommandResult r;
  SECURITY_ATTRIBUTES sa{};
  sa.nLength = sizeof sa;
  sa.bInheritHandle = TRUE;
  Handle outRead, outWrite, errRead, errWrite, nul;
  if (!makePipe(outRead, outWrite, sa) || !makePipe(errRead, errWrite, sa)) {
    r.launchError = lastError();
    return r;
  }
  nul.reset(CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                        OPEN_EXISTING, 0, nullptr));
  STARTUPINFOA si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nul.get();
  si.hStdOutput = outWrite.get();
  si.hStdError = errWrite.get();
  PROCESS_INFORMATION pi{};
  std::string line = cmd.commandLine();
  if (!CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr,
                      nullptr, &si, &pi)) {
    r.launchError = lastError();
    return r;
  }
  Handle process, thread;
  process.reset(pi.hProcess);
  thread.reset(pi.hThread);
  // Close our copies of the write ends: the readers see end-of-file when the child exits.
  outWrite.reset();
  errWrite.reset();
  std::thread outReader([&] { readAll(outRead.get(), r.out); });
  std::thread errReader([&] { readAll(errRead.get(), r.err); });
  const auto waitMs = static_cast<DWORD>(timeout_.count());
  if (WaitForSingleObject(process.get(), waitMs) != WAIT_OBJECT_0) {
    TerminateProcess(process.get(), 1);
    WaitForSingleObject(process.get(), INFINITE);
    r.launchError = std::make_error_code(std::errc::timed_out);
  }
  outReader.join();
  errReader.join();
  DWORD code = 0;
  if (!r.launchError && GetExitCodeProcess(process.get(), &code)) {
    r.exitCode = static_cast<int>(code);
  }
  return r;
}

} // namespace rmha::winnlb

#endif // _WIN32
