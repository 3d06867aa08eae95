import XCTest

@testable import GuardCore

/// The daemon's config (`claude-guard daemon --config FILE`): what it accepts, and that each mistake is named
/// with file:line:column as a policy's are.
final class DaemonConfigTests: XCTestCase {
    func parse(_ text: String) throws(PolicyError) -> DaemonConfig {
        try DaemonConfig.parse(text, file: "/etc/cg/daemon.yaml", cgroupRoot: "/sys/fs/cgroup")
    }

    func error(_ text: String) -> String {
        do {
            _ = try parse(text)
            return ""
        } catch {
            return error.description
        }
    }

    func testGuardsWithTheirCriteriaPolicyAndMode() throws {
        let c = try parse(
            """
            version: 1
            guards:
              - name: claude
                match: { comm: [claude, node], argv: 'claude-code', user: [root, 4242], exe: /bin/sh }
                policy: strict
                mode: audit
              - name: other
                match: { comm: agent }
                policy: policies/mine.yaml
            """)
        XCTAssertEqual(c.guards.map(\.name), ["claude", "other"])
        XCTAssertEqual(c.guards[0].comms, ["claude", "node"])
        XCTAssertEqual(c.guards[0].uids, [0, 4242])
        XCTAssertEqual(c.guards[0].exes.map(\.path), ["/bin/sh"])
        XCTAssertEqual(c.guards[0].argv, "claude-code")
        XCTAssertEqual(c.guards[0].policy, "strict")
        XCTAssertEqual(c.guards[0].mode, .audit)
        // A policy file is relative to the config; the mode defaults to the policy's own.
        XCTAssertEqual(c.guards[1].policy, "/etc/cg/policies/mine.yaml")
        XCTAssertNil(c.guards[1].mode)
        XCTAssertNil(c.guards[1].argv)
    }

    func testMistakesAreNamedWithLineAndColumn() {
        XCTAssertTrue(error("version: 1\nguards: 3\n").hasPrefix("/etc/cg/daemon.yaml:2:9: 'guards' must be a list"))
        let long = error("version: 1\nguards:\n  - name: a\n    match: { comm: a-name-longer-than-15 }\n")
        XCTAssertTrue(long.hasPrefix("/etc/cg/daemon.yaml:4:20: bad value for 'comm'"), long)
        let unknown = error("version: 1\nguards:\n  - name: a\n    match: { command: a }\n")
        XCTAssertTrue(unknown.contains("daemon.yaml:4:14: unknown key 'command' in a guard's match"), unknown)
        let argvOnly = error("version: 1\nguards:\n  - name: a\n    match: { argv: claude }\n")
        XCTAssertTrue(argvOnly.contains("give at least one of comm, exe, user or cgroup"), argvOnly)
        let regex = error("version: 1\nguards:\n  - name: a\n    match: { comm: a, argv: '(' }\n")
        XCTAssertTrue(regex.hasPrefix("/etc/cg/daemon.yaml:4:29: bad value for 'argv'"), regex)
        let twice = error(
            "version: 1\nguards:\n  - name: a\n    match: { comm: a }\n  - name: a\n    match: { comm: b }\n")
        XCTAssertTrue(twice.contains("'a' names two guards"), twice)
        XCTAssertTrue(error("guards: []\n").contains("needs 'version'"))
        let mode = error("version: 1\nguards:\n  - name: a\n    match: { comm: a }\n    mode: watch\n")
        XCTAssertTrue(mode.hasPrefix("/etc/cg/daemon.yaml:5:11:"), mode)
    }

    func testCgroupRootIsTheCgroup2Mount() {
        let hybrid = """
            25 22 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
            26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate
            27 25 0:24 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
            """
        XCTAssertEqual(DaemonConfig.cgroupRoot(mountinfo: hybrid), "/sys/fs/cgroup/unified")
        XCTAssertEqual(
            DaemonConfig.cgroupRoot(mountinfo: "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"), "/sys/fs/cgroup"
        )
    }
}
