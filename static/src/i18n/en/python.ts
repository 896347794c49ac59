// Messages of the in-browser Python runner: the scratchpad page and the run output view
// (static/src/labs/runOutput.ts) that the lab page reuses.

export const python = {
  'python.scratchpad.title': 'Python scratchpad',
  'python.scratchpad.intro': 'Try Python right here: it runs in your browser, nothing is saved or graded.',
  'python.code': 'Code',
  'python.stdin': 'Input (read by input())',
  'python.helper.summary': 'A second file: helper.py',
  'python.helper': 'helper.py',
  'python.helper.hint': 'Your code can use it with: import helper',
  'python.run': 'Run',
  'python.run.hint': 'Ctrl+Enter runs the code.',
  'python.stop': 'Stop',
  'python.loading': 'Loading Python…',
  'python.ready': 'Python is ready.',
  'python.running': 'Running…',
  'python.finished': 'Finished in {ms} ms.',
  'python.failed': 'Finished with an error after {ms} ms.',
  'python.stopped': 'Stopped.',
  'python.output': 'Output',
  'python.stdout': 'Printed output',
  'python.stderr': 'Error output',
  'python.error': 'Error',
  'python.noOutput': 'No output.',
  'python.practice': 'Runs in your browser for quick feedback; checked work is run on the server.',
}
