// Header-only: SwiftPM builds a C target only when it has a source file.
#include "CSystemCalls.h"
