#pragma once

namespace fer {
/// The project version, e.g. "0.1.0".
const char* version();
/// The git commit the library was configured from ("unknown" outside a checkout).
const char* git_commit();
}  // namespace fer
