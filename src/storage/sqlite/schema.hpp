// The schema as an ordered list of migrations. Append only: a step that shipped is never edited, because
// databases out there already ran it; a change is a new step.
#pragma once

#include <span>
#include <string_view>

namespace sw::storage {

// Element i makes schema version i + 1.
std::span<const std::string_view> schema_migrations();

}  // namespace sw::storage
