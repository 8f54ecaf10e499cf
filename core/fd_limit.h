#pragma once
// The process's open-file limit (RLIMIT_NOFILE).

namespace rmha::core {

/// Raises the soft open-file limit to the hard limit and logs what it got (component `core`).
/// Returns the soft limit now in force (-1 when unlimited or unknown). Call once at start,
/// before any thread is started.
long raiseOpenFileLimit();

} // namespace rmha::core
