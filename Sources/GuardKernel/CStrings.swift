#if canImport(Glibc)
    import Glibc
#endif

/// Calls body with `strings` as a NULL-terminated array of C strings (an argv for execvp, names for a C lookup),
/// allocated before and freed after: the one place the kernel side copies strings by hand.
func withCStrings<R>(_ strings: [String], _ body: (inout [UnsafeMutablePointer<CChar>?]) throws -> R) rethrows -> R {
    var pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return try body(&pointers)
}
