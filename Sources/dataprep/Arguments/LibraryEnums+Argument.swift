public import ArgumentParser
public import Preparation

// The library's enumerations taken as arguments by their raw values.

extension ErrorPolicy: ExpressibleByArgument {}
extension FillMode: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}
