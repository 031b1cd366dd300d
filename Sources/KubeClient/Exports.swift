@_exported import FlapJSON
