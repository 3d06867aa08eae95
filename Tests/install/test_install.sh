#!/usr/bin/env bash
# `make install PREFIX=...` into a temporary prefix: the binary, the shipped policies (found by name from the
# installed binary), completions for bash, zsh and fish, and a man page generated from the argument parser, each
# checked by what a user would do with it. Usage: test_install.sh [CONFIG]
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=$(mktemp -d /tmp/claude-guard-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL install: $what"; fi
}
make --no-print-directory install PREFIX="$prefix" SYSCONFDIR="$prefix/etc" CONFIG="${1:-debug}" >/dev/null
bin=$prefix/bin/claude-guard
check "the binary runs" "$bin" --version
check "the shipped policies are installed" test -f "$prefix/share/claude-guard/policies/strict.yaml" \
	-a -f "$prefix/share/claude-guard/policies/ci.yaml" -a -f "$prefix/share/claude-guard/policies/audit.yaml"
# Found by name from the installed copy, not from the source tree.
check "--policy NAME finds the installed policy" \
	env CLAUDE_GUARD_POLICIES= sh -c "'$bin' policy show strict | head -1 | grep -q '$prefix/share/claude-guard/policies/strict.yaml'"
check "test by name" "$bin" test ci
check "bash completion loads and completes subcommands" bash -c \
	"source '$prefix/share/bash-completion/completions/claude-guard' && COMP_WORDS=(claude-guard pol) COMP_CWORD=1 && _claude-guard && [[ \" \${COMPREPLY[*]} \" == *' policy '* ]]"
check "zsh completion is a compdef for claude-guard" grep -q '^#compdef claude-guard' "$prefix/share/zsh/site-functions/_claude-guard"
check "fish completion names the subcommands" grep -q 'policy' "$prefix/share/fish/vendor_completions.d/claude-guard.fish"
man=$prefix/share/man/man1/claude-guard.1
check "the man page is installed" test -s "$man"
check "the man page renders and documents run's flags" sh -c "MANWIDTH=200 man -l '$man' 2>/dev/null | grep -q -- '--fail-on' || grep -q 'fail-on' '$man'"
check "the man page has every subcommand" sh -c "for c in watch run check test lint policy resume kill hook import init version; do grep -q \"^\\.It Em \$c\\b\\|Sh \$c\\|\\b\$c\\b\" '$man' || exit 1; done"
unit=$prefix/lib/systemd/system/claude-guard.service
check "the daemon's unit runs the installed binary on the installed config" \
	grep -qx "ExecStart=$bin daemon --config $prefix/etc/claude-guard/daemon.yaml" "$unit"
check "the unit passes systemd-analyze verify without a warning" \
	sh -c "! command -v systemd-analyze || [ -z \"\$(systemd-analyze verify --man=no '$unit' 2>&1)\" ]"
check "the example daemon config is installed" test -f "$prefix/etc/claude-guard/daemon.yaml"
check "the daemon reads the installed config (a bad one fails with file:line:column)" sh -c \
	"'$bin' daemon --config '$prefix/etc/claude-guard/daemon.yaml' --check && printf 'version: 1\nguards: 3\n' > '$prefix/bad.yaml' && '$bin' daemon --config '$prefix/bad.yaml' --check 2>&1 | grep -q 'bad.yaml:2:9'"
make --no-print-directory uninstall PREFIX="$prefix" SYSCONFDIR="$prefix/etc" >/dev/null
check "uninstall removes the binary" test ! -e "$bin"
check "uninstall removes the unit and the unchanged example config" test ! -e "$unit" -a ! -e "$prefix/etc/claude-guard/daemon.yaml"
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
