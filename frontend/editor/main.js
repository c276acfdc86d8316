// The console's code editor: CodeMirror 6 bundled by esbuild into one ES module
// (scripts/build-console.sh -> build/editor/editor.mjs -> dist/editor.mjs).
//
// The console loads it only when the editor page opens, by adding a
// <script type="module" src="/editor.mjs"> (the CSP allows scripts from 'self' and no inline
// ones). Loading it assigns `window.GatehouseEditor`, which the wasm calls through
// `js_namespace = GatehouseEditor` (frontend/src/editor/). Keep this API tiny and stable: the
// Rust bindings mirror it.

import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { EditorState, Prec } from "@codemirror/state";
import { StreamLanguage, LanguageSupport } from "@codemirror/language";
import { oneDark } from "@codemirror/theme-one-dark";
import { javascript } from "@codemirror/lang-javascript";
import { json } from "@codemirror/lang-json";
import { markdown } from "@codemirror/lang-markdown";
import { python } from "@codemirror/lang-python";
import { rust } from "@codemirror/lang-rust";
import { html } from "@codemirror/lang-html";
import { css } from "@codemirror/lang-css";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { yaml } from "@codemirror/legacy-modes/mode/yaml";
import { toml } from "@codemirror/legacy-modes/mode/toml";
import { properties } from "@codemirror/legacy-modes/mode/properties";
import { nginx } from "@codemirror/legacy-modes/mode/nginx";
import { dockerFile } from "@codemirror/legacy-modes/mode/dockerfile";
import { diff } from "@codemirror/legacy-modes/mode/diff";
import { go } from "@codemirror/legacy-modes/mode/go";

const legacy = (mode) => () => new LanguageSupport(StreamLanguage.define(mode));

// By extension (lower case, without the dot).
const BY_EXTENSION = {
  js: () => javascript(),
  mjs: () => javascript(),
  cjs: () => javascript(),
  jsx: () => javascript({ jsx: true }),
  ts: () => javascript({ typescript: true }),
  tsx: () => javascript({ typescript: true, jsx: true }),
  json: json,
  md: markdown,
  markdown: markdown,
  py: python,
  rs: rust,
  html: html,
  htm: html,
  xml: html,
  svg: html,
  css: css,
  sh: legacy(shell),
  bash: legacy(shell),
  zsh: legacy(shell),
  yml: legacy(yaml),
  yaml: legacy(yaml),
  toml: legacy(toml),
  ini: legacy(properties),
  conf: legacy(properties),
  cfg: legacy(properties),
  properties: legacy(properties),
  env: legacy(shell),
  diff: legacy(diff),
  patch: legacy(diff),
  go: legacy(go),
};

// Whole names that say more than their extension does.
const BY_NAME = {
  dockerfile: legacy(dockerFile),
  "nginx.conf": legacy(nginx),
  ".bashrc": legacy(shell),
  ".profile": legacy(shell),
  ".bash_profile": legacy(shell),
  ".zshrc": legacy(shell),
  ".env": legacy(shell),
  "cargo.lock": legacy(toml),
};

/** The language for `filename`, or null for plain text. */
function languageFor(filename) {
  const name = String(filename || "").split("/").pop().toLowerCase();
  if (BY_NAME[name]) return BY_NAME[name]();
  if (name.startsWith("dockerfile")) return legacy(dockerFile)();
  const dot = name.lastIndexOf(".");
  const make = dot >= 0 ? BY_EXTENSION[name.slice(dot + 1)] : undefined;
  return make ? make() : null;
}

// Fits the console's dark panels; oneDark supplies the highlighting colours.
const consoleTheme = EditorView.theme(
  {
    "&": { height: "100%", fontSize: "14px", backgroundColor: "#0b0f14" },
    ".cm-scroller": {
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    },
    ".cm-gutters": { backgroundColor: "#0f1419", borderRight: "1px solid #2b3742" },
  },
  { dark: true },
);

/**
 * Creates an editor in `parent` holding `text`, highlighted for `filename`.
 * `onChange(dirty)` runs whenever the dirty state may have changed (dirty: the text differs from
 * the last clean one); `onSave()` runs on Ctrl-S / Cmd-S (the browser's own save is suppressed).
 */
export function createEditor(parent, text, filename, onChange, onSave) {
  let clean = null;
  let lastDirty = false;
  const report = (state) => {
    const dirty = !state.doc.eq(clean);
    if (dirty !== lastDirty) {
      lastDirty = dirty;
      onChange(dirty);
    }
  };
  const save = () => {
    onSave();
    return true;
  };
  const lang = languageFor(filename);
  const extensions = [
    // Before basicSetup's keymaps, so Mod-s never reaches the browser's "save page".
    Prec.highest(keymap.of([{ key: "Mod-s", run: save, preventDefault: true }])),
    basicSetup,
    // Before oneDark: of two themes the earlier wins, and the page's colours should.
    consoleTheme,
    oneDark,
    lang ? [lang] : [],
    EditorView.contentAttributes.of({ "aria-label": "File contents" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) report(update.state);
    }),
  ];
  const state = EditorState.create({ doc: text, extensions });
  clean = state.doc;
  const view = new EditorView({ state, parent });

  return {
    getText: () => view.state.doc.toString(),
    /** Replaces the whole text (a reload from the server): clean, with a fresh undo history. */
    setText: (next) => {
      view.setState(EditorState.create({ doc: next, extensions }));
      clean = view.state.doc;
      report(view.state);
    },
    markClean: () => {
      clean = view.state.doc;
      report(view.state);
    },
    isDirty: () => lastDirty,
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}

window.GatehouseEditor = { createEditor };
