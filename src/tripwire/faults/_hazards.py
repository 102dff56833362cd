# ruff: noqa: E501  (each template is a whole program on one line, as its \n escapes show it)
"""Planted hazards for the static-analysis benchmark and the fault set: small programs in seven
languages with one known hazard each, written in four styles, and a safe twin of each.

Styles: ``direct`` (the textbook line, usual names), ``renamed`` (every name replaced by an
unrelated word), ``split`` (the dangerous value assembled over several statements before it is
used), ``helper`` (the sink inside a helper whose parameter carries the value). The safe twin
does the same job the accepted way (parameters, argument lists, a vetted parser, a slow salted
hash, verification on): the rules must tell them apart by shape, not by vocabulary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STYLES = ("direct", "renamed", "split", "helper")
_WORDS = [
    "alpha",
    "bravo",
    "cobalt",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
    "meadow",
    "nectar",
    "orbit",
    "pylon",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umber",
    "vertex",
    "willow",
    "xenon",
    "yonder",
    "zephyr",
]


@dataclass(frozen=True)
class Planted:
    language: str
    kind: str
    """``injection``, ``deserialization``, ``undefined_name``, ``weak_hash``, ``tls``,
    ``memory``, ``unsafe``; ``clean`` for a safe twin."""
    hazard: str
    """What was planted (``sql``, ``shell``, ``eval``, ...), or what the twin avoids."""
    style: str
    code: str


# (language, kind, hazard) -> (dangerous, safe twin) per style; {f} {a} {b} {c} are names.
_T: dict[tuple[str, str, str], dict[str, tuple[str, str]]] = {}


def _add(lang: str, kind: str, hazard: str, **styles: tuple[str, str]) -> None:
    _T[lang, kind, hazard] = styles


# ---- Python -------------------------------------------------------------------------------
_add(
    "python", "injection", "sql",
    direct=("def {f}(cur, {a}):\n    cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % {a})\n    return cur.fetchall()\n",
            "def {f}(cur, {a}):\n    cur.execute(\"SELECT * FROM users WHERE name = ?\", ({a},))\n    return cur.fetchall()\n"),
    split=("def {f}(cur, {a}):\n    {b} = \"SELECT id, email FROM accounts \"\n    {b} += \"WHERE owner = '\" + {a} + \"'\"\n    cur.execute({b})\n    return cur.fetchone()\n",
           "def {f}(cur, {a}):\n    {b} = \"SELECT id, email FROM accounts WHERE owner = ?\"\n    cur.execute({b}, ({a},))\n    return cur.fetchone()\n"),
    helper=("def {c}(cur, {b}):\n    cur.execute({b})\n    return cur.fetchall()\n\n\ndef {f}(cur, {a}):\n    return {c}(cur, f\"DELETE FROM sessions WHERE token = '{{{a}}}'\")\n",
            "def {c}(cur, {b}, params):\n    cur.execute({b}, params)\n    return cur.fetchall()\n\n\ndef {f}(cur, {a}):\n    return {c}(cur, \"DELETE FROM sessions WHERE token = ?\", ({a},))\n"),
)  # fmt: skip
_add(
    "python", "injection", "shell",
    direct=("import subprocess\n\n\ndef {f}({a}):\n    return subprocess.check_output(\"ls -l \" + {a}, shell=True)\n",
            "import subprocess\n\n\ndef {f}({a}):\n    return subprocess.check_output([\"ls\", \"-l\", {a}])\n"),
    split=("import os\n\n\ndef {f}({a}):\n    {b} = \"tar czf /tmp/backup.tgz \"\n    {b} = {b} + {a}\n    return os.system({b})\n",
           "import subprocess\n\n\ndef {f}({a}):\n    {b} = [\"tar\", \"czf\", \"/tmp/backup.tgz\"]\n    {b}.append({a})\n    return subprocess.run({b}, check=True)\n"),
    helper=("import subprocess as {c}\n\n\ndef {b}(cmd):\n    return {c}.Popen(cmd, shell=True)\n\n\ndef {f}({a}):\n    return {b}(f\"ping -c 1 {{{a}}}\")\n",
            "import subprocess as {c}\n\n\ndef {b}(argv):\n    return {c}.Popen(argv)\n\n\ndef {f}({a}):\n    return {b}([\"ping\", \"-c\", \"1\", {a}])\n"),
)  # fmt: skip
_add(
    "python", "injection", "eval",
    direct=("def {f}({a}):\n    return eval({a})\n",
            "import ast\n\n\ndef {f}({a}):\n    return ast.literal_eval({a})\n"),
    split=("def {f}({a}):\n    {b} = \"result = \" + {a}\n    {c} = {{}}\n    exec({b}, {c})\n    return {c}[\"result\"]\n",
           "import json\n\n\ndef {f}({a}):\n    {c} = json.loads({a})\n    return {c}[\"result\"]\n"),
)  # fmt: skip
_add(
    "python", "deserialization", "pickle",
    direct=("import pickle\n\n\ndef {f}({a}):\n    return pickle.loads({a})\n",
            "import json\n\n\ndef {f}({a}):\n    return json.loads({a})\n"),
    renamed=("from pickle import loads as {c}\n\n\ndef {f}({a}):\n    {b} = {a}.read()\n    return {c}({b})\n",
             "from json import loads as {c}\n\n\ndef {f}({a}):\n    {b} = {a}.read()\n    return {c}({b})\n"),
)  # fmt: skip
_add(
    "python", "deserialization", "yaml",
    direct=("import yaml\n\n\ndef {f}({a}):\n    with open({a}) as fh:\n        return yaml.load(fh)\n",
            "import yaml\n\n\ndef {f}({a}):\n    with open({a}) as fh:\n        return yaml.safe_load(fh)\n"),
    split=("import yaml as {c}\n\n\ndef {f}({a}):\n    {b} = {a}.decode()\n    return {c}.load({b}, Loader={c}.Loader)\n",
           "import yaml as {c}\n\n\ndef {f}({a}):\n    {b} = {a}.decode()\n    return {c}.load({b}, Loader={c}.SafeLoader)\n"),
)  # fmt: skip
_add(
    "python", "undefined_name", "typo",
    direct=("def {f}({a}, {b}):\n    total = {a} + {b}\n    return totl\n",
            "def {f}({a}, {b}):\n    total = {a} + {b}\n    return total\n"),
    split=("def {f}(items):\n    result = []\n    for {b} in items:\n        if {b}:\n            result.append({b})\n    return sorted(reslt)\n",
           "def {f}(items):\n    result = []\n    for {b} in items:\n        if {b}:\n            result.append({b})\n    return sorted(result)\n"),
    helper=("import json\n\n\ndef {c}({a}):\n    return json.dumps({a})\n\n\ndef {f}({b}):\n    return {c}({b}) + os.linesep\n",
            "import json\nimport os\n\n\ndef {c}({a}):\n    return json.dumps({a})\n\n\ndef {f}({b}):\n    return {c}({b}) + os.linesep\n"),
)  # fmt: skip
_add(
    "python", "weak_hash", "md5",
    direct=("import hashlib\n\n\ndef {f}(password):\n    return hashlib.md5(password.encode()).hexdigest()\n",
            "import hashlib\nimport os\n\n\ndef {f}(password):\n    salt = os.urandom(16)\n    return salt + hashlib.pbkdf2_hmac(\"sha256\", password.encode(), salt, 600000)\n"),
    helper=("import hashlib\n\n\ndef {c}({a}):\n    return hashlib.sha1({a}.encode()).hexdigest()\n\n\ndef {f}(user, pwd):\n    user.digest = {c}(pwd)\n",
            "import hashlib\nimport os\n\n\ndef {c}({a}):\n    salt = os.urandom(16)\n    return salt + hashlib.scrypt({a}.encode(), salt=salt, n=2**14, r=8, p=1)\n\n\ndef {f}(user, pwd):\n    user.digest = {c}(pwd)\n"),
)  # fmt: skip
_add(
    "python", "tls", "verify",
    direct=("import requests\n\n\ndef {f}({a}):\n    return requests.get({a}, verify=False, timeout=10).json()\n",
            "import requests\n\n\ndef {f}({a}):\n    return requests.get({a}, timeout=10).json()\n"),
    split=("import ssl\nimport urllib.request\n\n\ndef {f}({a}):\n    {b} = ssl._create_unverified_context()\n    return urllib.request.urlopen({a}, context={b}).read()\n",
           "import ssl\nimport urllib.request\n\n\ndef {f}({a}):\n    {b} = ssl.create_default_context()\n    return urllib.request.urlopen({a}, context={b}).read()\n"),
)  # fmt: skip

# ---- JavaScript ---------------------------------------------------------------------------
_add(
    "javascript", "injection", "sql",
    direct=("function {f}(db, {a}) {{\n  return db.query(`SELECT * FROM users WHERE id = ${{{a}}}`);\n}}\n",
            "function {f}(db, {a}) {{\n  return db.query('SELECT * FROM users WHERE id = ?', [{a}]);\n}}\n"),
    split=("function {f}(db, {a}) {{\n  let {b} = 'UPDATE accounts SET email = ';\n  {b} += \"'\" + {a}.email + \"'\";\n  return db.query({b});\n}}\n",
           "function {f}(db, {a}) {{\n  const {b} = 'UPDATE accounts SET email = ? WHERE id = ?';\n  return db.query({b}, [{a}.email, {a}.id]);\n}}\n"),
)  # fmt: skip
_add(
    "javascript", "injection", "shell",
    direct=("const {{ exec }} = require('child_process');\n\nfunction {f}({a}) {{\n  exec('git clone ' + {a}, (err, out) => console.log(out));\n}}\n",
            "const {{ execFile }} = require('child_process');\n\nfunction {f}({a}) {{\n  execFile('git', ['clone', {a}], (err, out) => console.log(out));\n}}\n"),
    renamed=("const {c} = require('child_process');\n\nfunction {f}({a}) {{\n  const {b} = `convert ${{{a}}} out.png`;\n  return {c}.execSync({b});\n}}\n",
             "const {c} = require('child_process');\n\nfunction {f}({a}) {{\n  return {c}.execFileSync('convert', [{a}, 'out.png']);\n}}\n"),
    helper=("const cp = require('child_process');\n\nfunction {c}({b}) {{\n  return cp.exec({b});\n}}\n\nfunction {f}({a}) {{\n  return {c}('rm -rf /tmp/' + {a});\n}}\n",
            "const fs = require('fs');\n\nfunction {c}({b}) {{\n  return fs.rmSync({b}, {{ recursive: true }});\n}}\n\nfunction {f}({a}) {{\n  return {c}('/tmp/' + {a});\n}}\n"),
)  # fmt: skip
_add(
    "javascript", "injection", "eval",
    direct=("function {f}({a}) {{\n  return eval({a});\n}}\n",
            "function {f}({a}) {{\n  return JSON.parse({a});\n}}\n"),
    split=("function {f}({a}) {{\n  const {b} = 'return ' + {a};\n  const {c} = new Function('x', {b});\n  return {c}(1);\n}}\n",
           "function {f}({a}) {{\n  const {c} = (x) => x + Number({a});\n  return {c}(1);\n}}\n"),
)  # fmt: skip
_add(
    "javascript", "deserialization", "node-serialize",
    direct=("const serialize = require('node-serialize');\n\nfunction {f}({a}) {{\n  return serialize.unserialize({a}.cookies.profile);\n}}\n",
            "function {f}({a}) {{\n  return JSON.parse({a}.cookies.profile);\n}}\n"),
    renamed=("const {c} = require('node-serialize');\n\nfunction {f}({a}) {{\n  const {b} = Buffer.from({a}, 'base64').toString();\n  return {c}.unserialize({b});\n}}\n",
             "function {f}({a}) {{\n  const {b} = Buffer.from({a}, 'base64').toString();\n  return JSON.parse({b});\n}}\n"),
)  # fmt: skip
_add(
    "javascript", "weak_hash", "md5",
    direct=("const crypto = require('crypto');\n\nfunction {f}(password) {{\n  return crypto.createHash('md5').update(password).digest('hex');\n}}\n",
            "const crypto = require('crypto');\n\nfunction {f}(password) {{\n  const salt = crypto.randomBytes(16);\n  return crypto.scryptSync(password, salt, 64).toString('hex');\n}}\n"),
    helper=("const crypto = require('crypto');\n\nfunction {c}({a}) {{\n  return crypto.createHash('sha1').update({a}).digest('hex');\n}}\n\nfunction {f}(user, passwd) {{\n  user.hash = {c}(passwd);\n}}\n",
            "const crypto = require('crypto');\n\nfunction {c}({a}) {{\n  return crypto.createHash('sha1').update({a}).digest('hex');\n}}\n\nfunction {f}(file, body) {{\n  file.etag = {c}(body);\n}}\n"),
)  # fmt: skip
_add(
    "javascript", "tls", "reject",
    direct=("const https = require('https');\n\nfunction {f}({a}) {{\n  return https.get({a}, {{ rejectUnauthorized: false }});\n}}\n",
            "const https = require('https');\n\nfunction {f}({a}) {{\n  return https.get({a}, {{ timeout: 5000 }});\n}}\n"),
    split=("function {f}() {{\n  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n  return fetch('https://example.com');\n}}\n",
           "function {f}() {{\n  process.env.NODE_ENV = 'production';\n  return fetch('https://example.com');\n}}\n"),
)  # fmt: skip

# ---- Go ----------------------------------------------------------------------------------
_GO = "package main\n\nimport (\n{imports}\n)\n\n"
_add(
    "go", "injection", "sql",
    direct=(_GO + "func {f}(db *sql.DB, {a} string) (*sql.Rows, error) {{\n\treturn db.Query(fmt.Sprintf(\"SELECT * FROM users WHERE name = '%s'\", {a}))\n}}\n",
            _GO + "func {f}(db *sql.DB, {a} string) (*sql.Rows, error) {{\n\treturn db.Query(\"SELECT * FROM users WHERE name = $1\", {a})\n}}\n"),
    split=(_GO + "func {f}(db *sql.DB, {a} string) error {{\n\t{b} := \"DELETE FROM jobs WHERE owner = '\"\n\t{b} = {b} + {a} + \"'\"\n\t_, err := db.Exec({b})\n\treturn err\n}}\n",
           _GO + "func {f}(db *sql.DB, {a} string) error {{\n\t{b} := \"DELETE FROM jobs WHERE owner = $1\"\n\t_, err := db.Exec({b}, {a})\n\treturn err\n}}\n"),
)  # fmt: skip
_add(
    "go", "injection", "shell",
    direct=(_GO + "func {f}({a} string) ([]byte, error) {{\n\treturn exec.Command(\"sh\", \"-c\", \"ls -la \"+{a}).Output()\n}}\n",
            _GO + "func {f}({a} string) ([]byte, error) {{\n\treturn exec.Command(\"ls\", \"-la\", {a}).Output()\n}}\n"),
    helper=(_GO + "func {c}({b} string) error {{\n\treturn exec.Command(\"bash\", \"-c\", {b}).Run()\n}}\n\nfunc {f}({a} string) error {{\n\treturn {c}(\"curl -O \" + {a})\n}}\n",
            _GO + "func {c}({b} ...string) error {{\n\treturn exec.Command(\"curl\", {b}...).Run()\n}}\n\nfunc {f}({a} string) error {{\n\treturn {c}(\"-O\", {a})\n}}\n"),
)  # fmt: skip
_add(
    "go", "weak_hash", "md5",
    direct=(_GO + "func {f}(password string) string {{\n\tsum := md5.Sum([]byte(password))\n\treturn hex.EncodeToString(sum[:])\n}}\n",
            _GO + "func {f}(password string) ([]byte, error) {{\n\treturn bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)\n}}\n"),
)  # fmt: skip
_add(
    "go", "tls", "skip-verify",
    direct=(_GO + "func {f}() *http.Client {{\n\ttr := &http.Transport{{TLSClientConfig: &tls.Config{{InsecureSkipVerify: true}}}}\n\treturn &http.Client{{Transport: tr}}\n}}\n",
            _GO + "func {f}() *http.Client {{\n\ttr := &http.Transport{{TLSClientConfig: &tls.Config{{MinVersion: tls.VersionTLS12}}}}\n\treturn &http.Client{{Transport: tr}}\n}}\n"),
    split=(_GO + "func {f}() *tls.Config {{\n\t{b} := &tls.Config{{}}\n\t{b}.InsecureSkipVerify = true\n\treturn {b}\n}}\n",
           _GO + "func {f}() *tls.Config {{\n\t{b} := &tls.Config{{}}\n\t{b}.MinVersion = tls.VersionTLS12\n\treturn {b}\n}}\n"),
)  # fmt: skip

# ---- Java --------------------------------------------------------------------------------
_JAVA = "public class {C} {{\n{body}}}\n"
_add(
    "java", "injection", "sql",
    direct=(_JAVA.replace("{body}", "    ResultSet {f}(Statement st, String {a}) throws SQLException {{\n        return st.executeQuery(\"SELECT * FROM users WHERE name = '\" + {a} + \"'\");\n    }}\n"),
            _JAVA.replace("{body}", "    ResultSet {f}(Connection c, String {a}) throws SQLException {{\n        PreparedStatement ps = c.prepareStatement(\"SELECT * FROM users WHERE name = ?\");\n        ps.setString(1, {a});\n        return ps.executeQuery();\n    }}\n")),
    split=(_JAVA.replace("{body}", "    int {f}(Statement st, String {a}) throws SQLException {{\n        String {b} = \"UPDATE accounts SET role = 'admin' \";\n        {b} += \"WHERE login = '\" + {a} + \"'\";\n        return st.executeUpdate({b});\n    }}\n"),
           _JAVA.replace("{body}", "    int {f}(Connection c, String {a}) throws SQLException {{\n        String {b} = \"UPDATE accounts SET role = 'admin' WHERE login = ?\";\n        PreparedStatement ps = c.prepareStatement({b});\n        ps.setString(1, {a});\n        return ps.executeUpdate();\n    }}\n")),
)  # fmt: skip
_add(
    "java", "injection", "shell",
    direct=(_JAVA.replace("{body}", "    Process {f}(String {a}) throws IOException {{\n        return Runtime.getRuntime().exec(\"ping -c 1 \" + {a});\n    }}\n"),
            _JAVA.replace("{body}", "    Process {f}(String {a}) throws IOException {{\n        return new ProcessBuilder(\"ping\", \"-c\", \"1\", {a}).start();\n    }}\n")),
    helper=(_JAVA.replace("{body}", "    Process {c}(String {b}) throws IOException {{\n        return new ProcessBuilder(\"sh\", \"-c\", {b}).start();\n    }}\n\n    Process {f}(String {a}) throws IOException {{\n        return {c}(\"tar xf \" + {a});\n    }}\n"),
            _JAVA.replace("{body}", "    Process {c}(String... {b}) throws IOException {{\n        return new ProcessBuilder({b}).start();\n    }}\n\n    Process {f}(String {a}) throws IOException {{\n        return {c}(\"tar\", \"xf\", {a});\n    }}\n")),
)  # fmt: skip
_add(
    "java", "deserialization", "object-stream",
    direct=(_JAVA.replace("{body}", "    Object {f}(InputStream {a}) throws Exception {{\n        ObjectInputStream in = new ObjectInputStream({a});\n        return in.readObject();\n    }}\n"),
            _JAVA.replace("{body}", "    Object {f}(InputStream {a}) throws Exception {{\n        return new ObjectMapper().readValue({a}, Map.class);\n    }}\n")),
    renamed=(_JAVA.replace("{body}", "    Object {f}(byte[] {a}) throws Exception {{\n        var {b} = new ObjectInputStream(new ByteArrayInputStream({a}));\n        Object {c} = {b}.readObject();\n        return {c};\n    }}\n"),
             _JAVA.replace("{body}", "    Object {f}(byte[] {a}) throws Exception {{\n        var {b} = new ObjectMapper();\n        Object {c} = {b}.readValue({a}, Map.class);\n        return {c};\n    }}\n")),
)  # fmt: skip
_add(
    "java", "weak_hash", "md5",
    direct=(_JAVA.replace("{body}", "    byte[] {f}(String password) throws Exception {{\n        MessageDigest md = MessageDigest.getInstance(\"MD5\");\n        return md.digest(password.getBytes());\n    }}\n"),
            _JAVA.replace("{body}", "    byte[] {f}(String password, byte[] salt) throws Exception {{\n        PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, 600000, 256);\n        return SecretKeyFactory.getInstance(\"PBKDF2WithHmacSHA256\").generateSecret(spec).getEncoded();\n    }}\n")),
)  # fmt: skip
_add(
    "java", "tls", "trust-all",
    direct=(_JAVA.replace("{body}", "    void {f}(HttpsURLConnection {a}) {{\n        {a}.setHostnameVerifier((host, session) -> true);\n    }}\n"),
            _JAVA.replace("{body}", "    void {f}(HttpsURLConnection {a}) {{\n        {a}.setConnectTimeout(5000);\n    }}\n")),
    helper=(_JAVA.replace("{body}", "    static class {c} implements X509TrustManager {{\n        public void checkClientTrusted(X509Certificate[] chain, String type) {{}}\n        public void checkServerTrusted(X509Certificate[] chain, String type) {{}}\n        public X509Certificate[] getAcceptedIssuers() {{ return new X509Certificate[0]; }}\n    }}\n"),
            _JAVA.replace("{body}", "    static class {c} {{\n        public void checkClientTrusted(X509Certificate[] chain, String type) {{}}\n        public X509Certificate[] getAcceptedIssuers() {{ return new X509Certificate[0]; }}\n    }}\n")),
)  # fmt: skip

# ---- Rust --------------------------------------------------------------------------------
_add(
    "rust", "injection", "shell",
    direct=("use std::process::Command;\n\nfn {f}({a}: &str) -> std::io::Result<std::process::Output> {{\n    Command::new(\"sh\").arg(\"-c\").arg(format!(\"grep -r {{}} .\", {a})).output()\n}}\n",
            "use std::process::Command;\n\nfn {f}({a}: &str) -> std::io::Result<std::process::Output> {{\n    Command::new(\"grep\").arg(\"-r\").arg({a}).arg(\".\").output()\n}}\n"),
    split=("use std::process::Command;\n\nfn {f}({a}: &str) -> std::io::Result<std::process::ExitStatus> {{\n    let mut {b} = String::from(\"rm -rf \");\n    {b}.push_str({a});\n    Command::new(\"bash\").args([\"-c\", &{b}]).status()\n}}\n",
           "use std::process::Command;\n\nfn {f}({a}: &str) -> std::io::Result<std::process::ExitStatus> {{\n    Command::new(\"rm\").args([\"-rf\", {a}]).status()\n}}\n"),
)  # fmt: skip
_add(
    "rust", "injection", "sql",
    direct=("fn {f}(conn: &Connection, {a}: &str) -> Result<usize> {{\n    conn.execute(&format!(\"DELETE FROM users WHERE name = '{{}}'\", {a}), [])\n}}\n",
            "fn {f}(conn: &Connection, {a}: &str) -> Result<usize> {{\n    conn.execute(\"DELETE FROM users WHERE name = ?1\", [{a}])\n}}\n"),
)  # fmt: skip
_add(
    "rust", "tls", "accept-invalid",
    direct=("fn {f}() -> reqwest::Result<reqwest::Client> {{\n    reqwest::Client::builder().danger_accept_invalid_certs(true).build()\n}}\n",
            "fn {f}() -> reqwest::Result<reqwest::Client> {{\n    reqwest::Client::builder().https_only(true).build()\n}}\n"),
)  # fmt: skip
_add(
    "rust", "unsafe", "needless",
    direct=("fn {f}({a}: &[u32]) -> u32 {{\n    let mut {b} = 0;\n    unsafe {{\n        {b} += {a}.len() as u32;\n    }}\n    {b}\n}}\n",
            "fn {f}({a}: &[u32]) -> u32 {{\n    let mut {b} = 0;\n    {b} += {a}.len() as u32;\n    {b}\n}}\n"),
)  # fmt: skip

# ---- C -----------------------------------------------------------------------------------
_add(
    "c", "memory", "gets",
    direct=("#include <stdio.h>\n\nint {f}(void) {{\n    char {a}[64];\n    gets({a});\n    return puts({a});\n}}\n",
            "#include <stdio.h>\n\nint {f}(void) {{\n    char {a}[64];\n    if (!fgets({a}, sizeof {a}, stdin)) return -1;\n    return puts({a});\n}}\n"),
    helper=("#include <string.h>\n\nvoid {c}(char *{b}, const char *src) {{\n    strcpy({b}, src);\n}}\n\nvoid {f}(const char *{a}) {{\n    char name[16];\n    {c}(name, {a});\n}}\n",
            "#include <string.h>\n\nvoid {c}(char *{b}, size_t n, const char *src) {{\n    strncpy({b}, src, n - 1);\n    {b}[n - 1] = 0;\n}}\n\nvoid {f}(const char *{a}) {{\n    char name[16];\n    {c}(name, sizeof name, {a});\n}}\n"),
)  # fmt: skip
_add(
    "c", "injection", "shell",
    direct=("#include <stdio.h>\n#include <stdlib.h>\n\nint {f}(const char *{a}) {{\n    char cmd[256];\n    snprintf(cmd, sizeof cmd, \"unzip %s\", {a});\n    return system(cmd);\n}}\n",
            "#include <unistd.h>\n\nint {f}(const char *{a}) {{\n    char *argv[] = {{\"unzip\", (char *){a}, NULL}};\n    return execvp(\"unzip\", argv);\n}}\n"),
)  # fmt: skip
_add(
    "c", "tls", "verify-off",
    direct=("#include <curl/curl.h>\n\nvoid {f}(CURL *{a}) {{\n    curl_easy_setopt({a}, CURLOPT_SSL_VERIFYPEER, 0L);\n}}\n",
            "#include <curl/curl.h>\n\nvoid {f}(CURL *{a}) {{\n    curl_easy_setopt({a}, CURLOPT_SSL_VERIFYPEER, 1L);\n}}\n"),
)  # fmt: skip

# ---- shell -------------------------------------------------------------------------------
_add(
    "shell", "injection", "eval",
    direct=("#!/bin/sh\n{f}() {{\n    eval \"$1\"\n}}\n{f} \"$@\"\n",
            "#!/bin/sh\n{f}() {{\n    \"$@\"\n}}\n{f} \"$@\"\n"),
    split=("#!/bin/bash\n{a}=\"ls -l\"\n{a}=\"$" + "{a} -h\"\neval \"${a} $1\"\n",
           "#!/bin/bash\n{a}=(ls -l)\n{a}+=(\"$1\")\n\"$" + "{{{a}[@]}}\"\n"),
)  # fmt: skip
_add(
    "shell", "injection", "remote-script",
    direct=("#!/bin/sh\ncurl -fsSL https://example.com/install.sh | sh\n",
            "#!/bin/sh\ncurl -fsSL -o install.sh https://example.com/install.sh\nsha256sum -c install.sh.sha256 && sh install.sh\n"),
)  # fmt: skip
_add(
    "shell", "tls", "insecure",
    direct=("#!/bin/sh\ncurl -k -o {a}.tgz \"$1\"\n",
            "#!/bin/sh\ncurl -o {a}.tgz \"$1\"\n"),
    renamed=("#!/bin/sh\nwget --no-check-certificate -O {a}.tgz \"$1\"\n",
             "#!/bin/sh\nwget -O {a}.tgz \"$1\"\n"),
)  # fmt: skip


def _names(style: str, rng: random.Random) -> dict[str, str]:
    if style == "renamed":
        w = rng.sample(_WORDS, 4)
        return {"f": w[0], "a": w[1], "b": w[2], "c": w[3] + "_x", "C": w[0].title()}
    return {"f": "handle", "a": "value", "b": "query", "c": "run_it", "C": "Handler"}


def planted_hazards(seed: int = 0) -> list[Planted]:
    """Every template in every style it has (``renamed`` is applied to every template too),
    each with its safe twin; names drawn with ``seed``."""
    rng = random.Random(seed)
    out = []
    for (lang, kind, hazard), styles in _T.items():
        wanted = dict(styles)
        if "renamed" not in wanted:
            wanted["renamed"] = styles["direct"]
        for style, (bad, good) in wanted.items():
            names = _names(style, rng)
            imports = '\t"fmt"\n\t"os/exec"' if lang == "go" else ""
            fill = {**names, "imports": imports}
            out.append(Planted(lang, kind, hazard, style, _fill(bad, fill)))
            out.append(Planted(lang, "clean", hazard, style, _fill(good, fill)))
    return out


def _fill(template: str, names: dict[str, str]) -> str:
    if "{imports}" in template:
        template = template.replace("{imports}", names["imports"])
    return template.format(**names)
