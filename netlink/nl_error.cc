#include "netlink/nl_error.h"

#include <cstdlib>
#include <string>

#include <netlink/errno.h>

namespace rmha::netlink {
namespace {

class NlCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "libnl"; }
  std::string message(int code) const override { return nl_geterror(code); }
  std::error_condition default_error_condition(int code) const noexcept override {
    // The few codes callers compare against portably map onto errno conditions.
    switch (code) {
    case NLE_EXIST: return std::errc::file_exists;
    case NLE_NOADDR: return std::errc::address_not_available;
    case NLE_NOMEM: return std::errc::not_enough_memory;
    case NLE_PERM: return std::errc::operation_not_permitted;
    case NLE_NODEV: return std::errc::no_such_device;
    case NLE_OBJ_NOTFOUND: return std::errc::no_such_file_or_directory;
    case NLE_INVAL: return std::errc::invalid_argument;
    case NLE_BUSY: return std::errc::device_or_resource_busy;
    case NLE_AGAIN: return std::errc::resource_unavailable_try_again;
    default: return {code, *this};
    }
  }
};

} // namespace

const std::error_category& nlCategory() {
  static const NlCategory category;
  return category;
}

std::error_code makeNlError(int nle) {
  if (nle >= 0) {
    return {};
  }
  return {std::abs(nle), nlCategory()};
}

bool isNlError(const std::error_code& ec, int nle) {
  return ec.category() == nlCategory() && ec.value() == std::abs(nle);
}

} // namespace rmha::netlink
