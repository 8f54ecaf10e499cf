// Keeps rmha_sip a valid library until its first source lands.
namespace rmha::core::sip {
void placeholder() {}
} // namespace rmha::core::sip
