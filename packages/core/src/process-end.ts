// For plugins that hand their results over when the program ends (a report page, a profile table). Node's
// 'exit' event misses a program stopped by Ctrl-C or a kill, the usual end of a long training run, so the
// action also runs on SIGINT and SIGTERM. A listener for a signal stops Node from ending the process on
// it; so, once every such action has run, the signal is raised again and the program ends as it would have
// without them. A program that listens to the signal itself decides instead (and its exit runs them again).

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Runs `action` when the process exits, and when SIGINT or SIGTERM stops it. `action` must not throw. */
export function atProcessEnd(action: () => void): void {
  process.on('exit', action);
  for (const signal of STOP_SIGNALS) {
    process.once(signal, () => {
      action();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
