#!/usr/bin/env python3
"""Builds shell-corpus.txt for the shfmt differential test: real-world agent/shell one-liners plus generated
combinations of every construct the parser supports. One entry per line; U+2424 (␤) stands for a newline inside
an entry (here-documents, multi-line compound commands). Entries shfmt rejects are dropped, so every entry is
valid bash. Deterministic (seed 7).  Usage: make_shell_corpus.py > shell-corpus.txt
"""
import random
import subprocess
import sys

NL = "\u2424"
rng = random.Random(7)

real = r"""
git status
git diff --stat HEAD~1
git log --oneline --graph --decorate -n 20
git add -A && git commit -m "fix: handle empty input" && git push origin main
git commit -am 'wip: refactor parser'
git checkout -b feature/login
git stash && git pull --rebase && git stash pop
git rebase -i HEAD~3
git push --force-with-lease origin feature/x
git reset --hard origin/main
git clean -fdx
git branch -D old-branch
git remote -v
git fetch --all --prune
git log --format='%H %an %s' | head -n 5
git grep -n "TODO" -- '*.py'
ls -la
ls -lah ~/projects
ls | wc -l
cat README.md
cat package.json | jq '.dependencies'
head -n 50 src/main.rs
tail -f /var/log/syslog
tail -n 100 logs/app.log | grep -i error
grep -rn "useEffect" src/ --include="*.tsx"
grep -rl 'old_name' . | xargs sed -i 's/old_name/new_name/g'
rg -n "fn main" --type rust
find . -name "*.pyc" -delete
find . -type f -name '*.log' -mtime +7 -exec rm -f {} \;
find src -name '*.ts' -print0 | xargs -0 wc -l
find / -name x -exec rm -rf {} +
sed -i 's/foo/bar/g' config.yaml
sed -n '10,20p' file.txt
awk '{print $1}' access.log | sort | uniq -c | sort -rn | head
awk -F: '$3 >= 1000 {print $1}' /etc/passwd
cut -d, -f1,3 data.csv | sort -u
sort -k2 -n scores.txt
uniq -c
wc -l src/*.py
npm install
npm ci
npm run build
npm test -- --watch=false
npm run lint -- --fix
npx jest path/to/test.spec.ts
npx prettier --write "src/**/*.{ts,tsx}"
yarn add -D typescript
pnpm install --frozen-lockfile
node -e "console.log(process.version)"
python3 -m pytest -q tests/
python3 -m venv .venv && source .venv/bin/activate && pip install -r requirements.txt
python3 -c 'import sys; print(sys.path)'
pip install --upgrade pip
pip freeze > requirements.txt
cargo build --release
cargo test -- --nocapture
cargo clippy -- -D warnings
cargo fmt --all
go test ./...
go build -o bin/server ./cmd/server
go mod tidy
make -j4
make clean && make
cmake -S . -B build && cmake --build build -j
docker build -t myapp:latest .
docker run --rm -it -v "$PWD":/app -w /app node:20 npm test
docker compose up -d
docker ps -a --format '{{.Names}}'
docker exec -it web sh -c 'ls /app'
kubectl get pods -n kube-system
kubectl logs -f deploy/api --tail=100
kubectl apply -f k8s/
curl -s https://api.github.com/repos/owner/repo | jq .stargazers_count
curl -fsSL https://example.com/install.sh | bash
curl -X POST -H "Content-Type: application/json" -d '{"a":1}' http://localhost:8080/api
curl -o /tmp/file.tar.gz -L https://example.com/file.tar.gz
wget -qO- https://example.com/script.sh | sh
wget https://example.com/data.zip && unzip data.zip -d data/
tar -xzf archive.tar.gz -C /tmp
tar czf backup.tgz src/ docs/
zip -r out.zip dist/
unzip -o file.zip
chmod +x scripts/*.sh
chmod -R 755 public/
chown -R $USER:$USER .
mkdir -p build/output && cd build && cmake ..
cp -r src/ backup/
mv old.txt new.txt
rm -rf node_modules package-lock.json && npm install
rm -rf build dist .cache
rm -f *.o
ln -sf /usr/bin/python3 /usr/local/bin/python
touch .env
echo "export PATH=\$PATH:/usr/local/go/bin" >> ~/.bashrc
echo 'hello world' > out.txt
echo $HOME
echo "${HOME}/bin"
printf '%s\n' "$@"
printf "%-10s %5d\n" name 42
export NODE_ENV=production
export PATH="$HOME/.local/bin:$PATH"
source ~/.bashrc
. ./env.sh
which python3
type -a ls
command -v docker >/dev/null 2>&1 || echo "docker missing"
env | grep -i proxy
env -i PATH=/usr/bin HOME=/tmp bash -c 'echo $PATH'
sudo apt-get update && sudo apt-get install -y build-essential
sudo systemctl restart nginx
sudo -u postgres psql -c 'select 1'
ps aux | grep node | grep -v grep
pkill -f "node server.js"
kill -9 $(lsof -t -i:3000)
lsof -i :8080
df -h
du -sh * | sort -h
free -m
top -bn1 | head -20
uname -a
date +%Y-%m-%d
sleep 5 && echo done
timeout 30 npm test
nohup python3 server.py > server.log 2>&1 &
time make -j8
watch -n 1 'ls -la'
xargs -n 1 echo < list.txt
seq 1 10 | xargs -I {} echo item {}
for f in *.txt; do echo "$f"; done
for i in $(seq 1 5); do curl -s localhost:8080/health; sleep 1; done
for ((i=0; i<3; i++)); do echo $i; done
while read -r line; do echo "$line"; done < input.txt
while true; do date; sleep 60; done
until curl -s localhost:5432; do sleep 1; done
if [ -f .env ]; then source .env; fi
if [[ -d node_modules ]]; then echo ok; else npm install; fi
[ -z "$VAR" ] && echo empty || echo set
test -d build || mkdir build
case "$1" in start) echo s;; stop) echo t;; *) echo usage;; esac
f() { echo "in f: $1"; }; f arg
function cleanup { rm -rf "$TMPDIR"; }; trap cleanup EXIT
(cd frontend && npm run build)
{ echo a; echo b; } > both.txt
diff <(sort a.txt) <(sort b.txt)
tee >(gzip > out.gz) < input > /dev/null
cat <<EOF > config.json␤{"key": "value"}␤EOF
cat <<'EOF'␤$NOT_EXPANDED␤EOF
cat <<-EOF␤	indented $(date)␤	EOF
python3 - <<EOF␤import os␤print(os.getcwd())␤EOF
grep -q foo <<< "foo bar"
bash -c "cd /tmp && ls -la"
sh -c 'echo $0' myname
bash -lc "nvm use 18 && npm test"
bash -ec 'set -o pipefail; make test | tee log'
sh -c "sh -c 'echo nested'"
eval "$(ssh-agent -s)"
eval $(minikube docker-env)
exec > >(tee -a log.txt) 2>&1
set -euo pipefail
trap 'echo err' ERR
readonly X=1
local_var=1 other=2
A=1 B=2 env
CC=clang CFLAGS="-O2 -g" make
ssh user@host 'ls -la /srv'
scp file.txt user@host:/tmp/
rsync -avz --delete src/ user@host:/srv/app/
openssl rand -hex 32
base64 -d <<< "aGVsbG8=" | sh
echo aGVsbG8= | base64 --decode
jq -r '.items[] | .name' data.json
yq e '.spec.replicas = 3' -i deploy.yaml
terraform plan -out tfplan
aws s3 cp ./dist s3://bucket/ --recursive
gh pr create --title "Fix bug" --body "Details"
gh pr list --state open
history | tail -20
clear
true
false || true
! grep -q pattern file && echo absent
time -p sleep 1
ls -la | grep '^d' | awk '{print $9}'
cat file | tr '[:upper:]' '[:lower:]' | sort | uniq
echo $((1 + 2))
x=$(date +%s); echo "took $(( $(date +%s) - x ))s"
arr=(one two three); echo "${arr[@]}"
echo ${#arr[@]}
echo ${var:-default} ${var:=x} ${var#prefix} ${var%%.*}
echo "It's a 'test'" 'He said "hi"' $'tab\there'
echo a\ b c\\d "e\$f" 'g\h'
echo `date` "`whoami`"
echo "$(echo "$(echo nested)")"
ls 2>/dev/null || echo none
make 2>&1 | tee build.log
cmd >out 2>err <in
exec 3>&1 4>&2
echo hi >&2
echo data >| forced.txt
cat < /dev/null
ls &> all.txt
ls &>> all.txt
echo {a,b,c}.txt
mkdir -p dir/{src,test,docs}
ls ~/.config
cd ~ && ls
cd - >/dev/null
cd .. && pwd
pushd /tmp && popd
dd if=/dev/zero of=/dev/null bs=1M count=10
mkfs.ext4 /dev/sdb1
:(){ :|:& };:
rm -rf /
rm -fr ~
rm --recursive --force ..
sudo rm -rf /var/lib/docker
timeout 5 env rm -rf x
sh -c "cd x && rm -rf ."
nice -n 10 ionice -c3 rsync -a src/ dst/
stdbuf -oL tail -f log | grep --line-buffered ERR
setsid -f long-running-job
flock /tmp/lock -c 'echo locked'
flock -n /tmp/lock make
chroot /mnt /bin/bash -c 'ls'
unshare -r -n whoami
script -qc 'ls' /dev/null
busybox ls -la
doas -u root ls
su -c 'whoami' root
exec -a myname sleep 1
command ls
builtin echo hi
""".strip("\n").split("\n")

simple = [
    "ls", "ls -la", "git status", "rm -rf build", "rm -fr /tmp/x", "echo hello", "cat file.txt", "npm test",
    "grep -rn foo src", "make -j4", "python3 -m pytest", "curl -s https://x.io", "sort -u", "wc -l", "true",
    "git push -f origin main", "sudo ls", "chmod -R 777 .", "cd src", "mkdir -p a/b", "cp a b", "touch x",
    "find . -name '*.o'", "xargs rm -f", "sed -i s/a/b/ f", "head -n 5", "tail -n 1 f", "env FOO=1 cmd",
    "timeout 5 cmd arg", "nice -n 5 job", "A=1 cmd", "X=\"a b\" Y='c' run --flag=value",
]
quoted_args = ["'single quoted'", '"double quoted"', '"with $VAR inside"', "$'ansi\\tC'", "plain\\ escaped",
               '"nested \\"quotes\\""', "'it'\\''s'", "pre'fix'\"suf\"", "~/path", "{a,b}", "*.txt", "a=b",
               '"$(inner cmd)"', "$(date +%s)", "`uname`", "${X:-d}", "$((2*3))", "-rf", "--force", "--", "@file"]
ops = [" ; ", " && ", " || ", " | ", " |& ", " & "]
redirs = ["", " > out", " 2>&1", " >> log", " < in", " 2>/dev/null", " &> all", " <<< word", " >&2", " 3>f"]


def cmd():
    c = rng.choice(simple)
    for _ in range(rng.randint(0, 2)):
        c += " " + rng.choice(quoted_args)
    return c + rng.choice(redirs)


def shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def compound(depth=0):
    k = rng.randint(0, 15 if depth < 2 else 6)
    a, b = cmd(), cmd()
    if k <= 3:
        return a + rng.choice(ops) + b
    if k == 4:
        return f"{a}{rng.choice(ops)}{b}{rng.choice(ops)}{cmd()}"
    if k == 5:
        return f"( {a}; {b} )"
    if k == 6:
        return f"{{ {a}; {b}; }}"
    if k == 7:
        return f"if {a}; then {b}; else {cmd()}; fi"
    if k == 8:
        return f"for x in 1 2 3; do {a}; done"
    if k == 9:
        return f"while {a}; do {b}; done"
    if k == 10:
        return f"case $x in a) {a};; b|c) {b};; esac"
    if k == 11:
        return f"sh -c {shell_quote(compound(depth + 1))}"
    if k == 12:
        return f"bash -c \"{a.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace('$', chr(92) + '$').replace('`', chr(92) + '`')}\""
    if k == 13:
        return f"echo $({a}) `{b.replace('`', '')}`"
    if k == 14:
        return f"f() {{ {a}; }}; f"
    return f"! {a} && time {b}"


entries = [e for e in real if e.strip()]
seen = set(entries)
while len(entries) < 2600:
    e = compound()
    if e not in seen:
        seen.add(e)
        entries.append(e)

valid = []
for e in entries:
    text = e.replace(NL, "\n")
    r = subprocess.run(["shfmt", "-ln", "bash", "--to-json"], input=text.encode(), capture_output=True)
    if r.returncode == 0:
        valid.append(e)
    else:
        print(f"dropped (shfmt rejects): {e!r}", file=sys.stderr)
sys.stdout.write("\n".join(valid) + "\n")
