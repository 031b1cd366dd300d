// Header-only shim: SwiftPM builds a C target only when it has a source file.
#include "CEventPoll.h"
