/**
 * The AWS SDK warns on every start under Node 20 that releases after January 2027 need
 * Node 22. The README says so once; the local tools do not repeat it on every command.
 * Every other warning is printed as usual.
 */
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  // The SDK emits it as a plain `Warning` whose message starts with its name.
  if (
    warning.name === 'NodeVersionSupportWarning' ||
    warning.message.startsWith('NodeVersionSupportWarning')
  ) {
    return;
  }
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
