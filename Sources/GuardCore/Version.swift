/// claude-guard's own version (`claude-guard --version`; the kernel side adds its BPF object's build id and
/// libbpf's version).
public enum Version {
    public static let number = "0.9.0"
}
