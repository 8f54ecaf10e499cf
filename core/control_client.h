#pragma once
// The operator's side of the control protocol, without sockets: what rmhactl prints.
// Every field of an answer is read as optional and type-checked: a daemon of another version,
// a node without [sip] or a peer, or a damaged answer prints '?' or nothing, never crashes.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace rmha::core {

/// j[key] when j is an object holding key, else a null value (never inserts, never throws).
const nlohmann::json& jsonField(const nlohmann::json& j, const char* key);
/// The field when it is a string / boolean / number, else `fallback`.
std::string jsonString(const nlohmann::json& j, const char* key, const std::string& fallback = "");
bool jsonBool(const nlohmann::json& j, const char* key, bool fallback);
/// Integers as they are; a finite floating-point value in range is truncated.
std::int64_t jsonInt(const nlohmann::json& j, const char* key, std::int64_t fallback = 0);
double jsonDouble(const nlohmann::json& j, const char* key, double fallback = 0.0);

/// The text of `rmhactl status` for a status answer (docs/control-protocol.md#status).
std::string formatStatus(const nlohmann::json& status);

} // namespace rmha::core
