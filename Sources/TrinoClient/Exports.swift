import FlapJSON
// JSONValue is part of TrinoClient's API (failure info, unmodelled types).
@_exported import FlapJSON
