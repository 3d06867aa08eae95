import Foundation
import XCTest

/// The local HTTPS server of the capture tests (Tests/Fixtures/ssl/server.py) on 127.0.0.1, with a self-signed
/// certificate made for it; stopped (its own process only) and its directory removed on deinit.
final class TLSTestServer {
    let dir: String
    let cert: String
    let port: Int
    private let process = Process()

    static var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ssl").path
    }

    var pythonClient: String { Self.fixtures + "/client.py" }
    var nodeClient: String { Self.fixtures + "/client.js" }

    init() throws {
        dir = try Guard.tempDir().path
        cert = dir + "/cert.pem"
        let key = dir + "/key.pem"
        let made = try Guard.exec(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        guard made.status == 0 else { throw XCTSkip("openssl could not make a certificate: \(made.stderr)") }
        process.executableURL = URL(fileURLWithPath: Guard.python)
        process.arguments = [Self.fixtures + "/server.py", cert, key]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line is the port.
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        while !text.contains("\n") && Date() < deadline && process.isRunning {
            text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        guard let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw XCTSkip("the test HTTPS server did not start: \(text)")
        }
        port = p
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}
