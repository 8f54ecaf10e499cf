#include "core/session.h"

namespace rmha::core {

std::string_view toString(SessionState s) {
  switch (s) {
  case SessionState::Trying:
    return "trying";
  case SessionState::Early:
    return "early";
  case SessionState::Confirmed:
    return "confirmed";
  case SessionState::Terminating:
    return "terminating";
  }
  return "unknown";
}

} // namespace rmha::core
