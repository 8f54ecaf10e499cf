#include "core/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace rmha::core {

long raiseOpenFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    RMHA_LOG(Warn, "core", "cannot read the open-file limit: {}", std::strerror(errno));
    return -1;
  }
  const auto shown = [](rlim_t v) { return v == RLIM_INFINITY ? -1L : static_cast<long>(v); };
  if (rl.rlim_cur == rl.rlim_max) {
    RMHA_LOG(Info, "core", "open-file limit {} (already the hard limit)", shown(rl.rlim_cur));
    return shown(rl.rlim_cur);
  }
  const rlim_t before = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    RMHA_LOG(Warn, "core", "cannot raise the open-file limit from {} to {}: {}; running with {}",
             shown(before), shown(rl.rlim_max), std::strerror(errno), shown(before));
    return shown(before);
  }
  RMHA_LOG(Info, "core", "open-file limit raised from {} to {} (the hard limit)", shown(before),
           shown(rl.rlim_cur));
  return shown(rl.rlim_cur);
}

} // namespace rmha::core
