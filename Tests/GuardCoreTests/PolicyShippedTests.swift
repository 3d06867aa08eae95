import XCTest

@testable import GuardCore

/// The shipped policies load, lint clean and pass their own tests; the embedded default is policies/default.yaml.
final class PolicyShippedTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func policyPath(_ name: String) -> String { root.appendingPathComponent("policies/\(name)").path }

    static let shipped = ["default.yaml", "strict.yaml", "audit.yaml", "ci.yaml"]

    func testShippedPoliciesPassTheirTests() throws {
        for name in Self.shipped {
            let path = Self.policyPath(name)
            guard FileManager.default.fileExists(atPath: path) else { return XCTFail("missing \(path)") }
            let out = PolicyTool.test(paths: [path])
            XCTAssertEqual(out.exitCode, 0, "\(name):\n\(out.stdout)\(out.stderr)")
            XCTAssertTrue(out.stdout.contains(" 0 failed"), out.stdout)
        }
    }

    func testShippedPoliciesHaveAtLeast25TestsAndLintClean() throws {
        for name in Self.shipped {
            let policy = try Policy.load(path: Self.policyPath(name))
            XCTAssertGreaterThanOrEqual(policy.tests.count, 25, name)
            XCTAssertEqual(PolicyTool.lint(policy: policy), [], name)
        }
    }

    func testEmbeddedDefaultIsPoliciesDefaultYamlByteForByte() throws {
        let onDisk = try String(contentsOfFile: Self.policyPath("default.yaml"), encoding: .utf8)
        XCTAssertEqual(Policy.embeddedDefaultText, onDisk)
        let p = Policy.embeddedDefault
        XCTAssertEqual(p.name, "default")
        XCTAssertEqual(p.mode, .enforce)
        XCTAssertEqual(p.defaultAction, .allow)
        XCTAssertEqual(p.holdTimeoutMs, 2000)
        XCTAssertEqual(p.onTimeout, .kill)
    }

    func testAuditPolicyIsAuditMode() throws {
        XCTAssertEqual(try Policy.load(path: Self.policyPath("audit.yaml")).mode, .audit)
    }
}
