// The machine and versions a result was measured on, so a figure never travels without them.
import { cpus, totalmem } from "node:os";
import { readFileSync } from "node:fs";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  bun: string;
  connector: string;
  haproxy: string;
  openssl: string;
  /** The commit of the measured tree, "+changes" when src/ differs from it. */
  commit: string;
}

const firstLine = (cmd: string[]) => {
  try {
    const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
    return (result.stdout.toString() || result.stderr.toString()).split("\n")[0]?.trim() ?? "?";
  } catch {
    return "not installed";
  }
};

export function describeMachine(exe: string, haproxy: string, root: string): Machine {
  const os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "?";
  return {
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: firstLine(["uname", "-r"]),
    os,
    bun: Bun.version,
    connector: firstLine([exe, "version"]),
    haproxy,
    openssl: firstLine(["openssl", "version"]).replace(/ \(Library:.*\)$/, ""),
    commit: `${firstLine(["git", "-C", root, "rev-parse", "--short", "HEAD"])}${firstLine(["git", "-C", root, "status", "--porcelain", "--", "src"]) ? "+changes" : ""}`,
  };
}
