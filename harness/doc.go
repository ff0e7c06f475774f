// Package harness is attnlab's core: the plugin host (discovery,
// checksums, launch, handshake, logs, peak memory, clean kill), the trial
// runner (the training loop), and the command-line interface in
// harness/cmd/attnlab.
//
// Plugins live in a directory (default bin/plugins) as executables named
// KIND-NAME, for example attention-full, arch-transformer and
// objective-causal-lm. A lock file in the same directory,
// attnlab-plugins.lock, records each binary's sha256; the host refuses a
// binary that is not in the lock or whose checksum changed (go-plugin's
// SecureConfig checks it again just before launch), so the code a trial
// ran is the code that was locked. `attnlab plugins lock` writes the
// file; `make build` does so after building.
//
// Every trial gets a fresh process per component and a shared-memory
// directory of its own. When the trial ends, however it ends, the host
// kills the processes, records their peak resident memory, and removes
// the directory. Plugins also exit on their own if the harness dies: the
// kernel sends them SIGKILL when the harness goes (PR_SET_PDEATHSIG), and
// the SDK watches its parent process as a second line of defence.
package harness
