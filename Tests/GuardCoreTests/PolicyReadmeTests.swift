import Foundation
import XCTest

@testable import GuardCore

/// policies/README.md describes the language itself (issue 14 point 16): every key the loader takes, every
/// action, access and setting, in the README's own words, and no pointer to a specification outside the repository.
final class PolicyReadmeTests: XCTestCase {
    func testThePolicyReadmeDocumentsEveryKeyTheLoaderTakes() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/README.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertFalse(text.contains("SPEC"), "policies/README.md points at a specification outside the repository")
        var keys =
            PolicyLoader.topKeys + PolicyLoader.settingsKeys + PolicyLoader.ruleKeys + PolicyLoader.matchKeys
            + PolicyLoader.pathsKeys + PolicyLoader.testKeys + PolicyLoader.fileRuleKeys + PolicyLoader.processKeys
            + PolicyLoader.fileTestKeys
        keys += Action.allCases.map(\.rawValue) + FileAction.allCases.map(\.rawValue)
        keys += FileAccess.allCases.map(\.rawValue) + Severity.allCases.map(\.rawValue)
        keys += PolicyMode.allCases.map(\.rawValue)
        let missing = Set(keys).filter { key in
            text.range(of: "(^|[^A-Za-z_])\(key)([^A-Za-z_]|$)", options: .regularExpression) == nil
        }
        XCTAssertEqual(missing.sorted(), [], "policies/README.md does not describe these")
    }
}
