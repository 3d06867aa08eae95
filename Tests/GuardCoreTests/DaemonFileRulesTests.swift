import XCTest

@testable import GuardCore

/// Which file rules the daemon loads into the kernel (one set for every guarded tree): the guards' shared rules
/// less those naming `${workspace}`; guards whose file rules differ are refused at the differing guard's line.
final class DaemonFileRulesTests: XCTestCase {
    let config = """
        version: 1
        guards:
          - name: one
            match: { comm: agent1 }
            policy: /p/one.yaml
          - name: two
            match: { comm: agent2 }
            policy: /p/two.yaml
        """

    func guards() throws -> [DaemonConfig.Guard] {
        try DaemonConfig.parse(config, file: "/etc/cg/daemon.yaml", cgroupRoot: "/sys/fs/cgroup").guards
    }

    func policy(_ name: String, _ files: String) throws -> Policy {
        try Policy.load(
            yaml: """
                version: 1
                name: \(name)
                rules:
                  - id: \(name)-rm
                    match: { command: rm }
                    action: kill
                \(files.isEmpty ? "" : "files:\n" + files)
                """, file: "/p/\(name).yaml")
    }

    let victims = """
          - id: victims
            paths: { under: ['/srv/victims'] }
            access: [delete, write]
            action: deny
          - id: outside-ws
            paths: { outside: ['${workspace}', '/tmp/*'] }
            access: [delete]
            action: deny

        """

    func testSameFileRulesLoadOnceLessThoseNamingTheWorkspace() throws {
        let r = try DaemonFileRules(
            guards: guards(), policies: [try policy("one", victims), try policy("two", victims)])
        XCTAssertEqual(r.policy?.fileRules.map(\.id), ["victims"])
        XCTAssertEqual(r.skipped, ["outside-ws"])
        XCTAssertEqual(r.signature.count, 2, "a reload compares every rule as written, loaded or not")
        // Exec rules differ between the policies: that is each guard's own business.
        XCTAssertEqual(r.policy?.name, "one")
    }

    func testNoFileRulesLoadNothing() throws {
        let r = try DaemonFileRules(guards: guards(), policies: [try policy("one", ""), try policy("two", "")])
        XCTAssertNil(r.policy)
        XCTAssertEqual(r.signature, [])
        let onlyWorkspace = """
              - id: outside-ws
                paths: { outside: ['${workspace}'] }
                access: [delete]
                action: deny

            """
        let w = try DaemonFileRules(
            guards: guards(), policies: [try policy("one", onlyWorkspace), try policy("two", onlyWorkspace)])
        XCTAssertNil(w.policy, "no rule left to load: no file programs")
        XCTAssertEqual(w.skipped, ["outside-ws"])
    }

    func testDifferingFileRulesAreRefusedAtTheGuardsPolicyLine() throws {
        let stricter = victims.replacingOccurrences(of: "[delete, write]", with: "[delete, write, read]")
        for second in [try policy("two", stricter), try policy("two", "")] {
            XCTAssertThrowsError(
                try DaemonFileRules(guards: guards(), policies: [try policy("one", victims), second])
            ) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("/etc/cg/daemon.yaml:8:13: "), text)
                XCTAssertTrue(text.contains("policy two has other file rules than policy one of guard one"), text)
                XCTAssertTrue(text.contains("claude-guard run"), text)
            }
        }
    }

    func testTheSignatureSeesEveryFieldThatJudges() throws {
        let base = try policy("one", victims).fileRules[0]
        for change in [
            victims.replacingOccurrences(of: "action: deny", with: "action: kill"),
            victims.replacingOccurrences(of: "/srv/victims", with: "/srv/other"),
            victims.replacingOccurrences(of: "id: victims", with: "id: renamed"),
        ] {
            let other = try policy("one", change).fileRules[0]
            XCTAssertNotEqual(DaemonFileRules.signature(base), DaemonFileRules.signature(other), change)
        }
    }
}
