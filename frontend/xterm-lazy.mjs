// Stand-ins for xterm.js and its fit addon, so the console's first load does not carry them.
// The import map points "xterm" and "xterm-addon-fit" here; the wasm glue imports `Terminal`,
// `FitAddon` and `loadXterm` from this module. Pages that show a terminal await `loadXterm()`
// first; after that, `new Terminal(...)` and `new FitAddon()` return the real objects.
let xterm = null;
let fit = null;

export async function loadXterm() {
  if (xterm === null) {
    [xterm, fit] = await Promise.all([import("/xterm.mjs"), import("/addon-fit.mjs")]);
  }
}

function loaded(module, name) {
  if (module === null) {
    throw new Error(`${name} used before loadXterm() finished`);
  }
  return module;
}

export class Terminal {
  constructor(...args) {
    return new (loaded(xterm, "Terminal").Terminal)(...args);
  }
}

export class FitAddon {
  constructor(...args) {
    return new (loaded(fit, "FitAddon").FitAddon)(...args);
  }
}
