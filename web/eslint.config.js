// ESLint 9 (flat config) with typescript-eslint's type-checked rules: `npm run lint`.
//
// Beyond the recommended sets, two things matter most here: promises that nobody awaits or
// catches (a failed MLS step or send must not vanish: no-floating-promises and
// no-misused-promises, which need type information), and HTML sinks. Every name, message and
// field the server relays is attacker-controlled and reaches the page as text nodes only
// (widget/dom.ts, console/dom.ts), so the APIs that parse a string as HTML or code are
// refused outright.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const html = "server data is set as text (textContent, Text nodes, el()); never parse a string as HTML";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: html },
        { property: "outerHTML", message: html },
        { property: "insertAdjacentHTML", message: html },
        { property: "createContextualFragment", message: html },
        { property: "setHTMLUnsafe", message: html },
        { property: "parseHTMLUnsafe", message: html },
        { property: "srcdoc", message: html },
        { object: "document", property: "write", message: html },
        { object: "document", property: "writeln", message: html },
      ],
      "no-restricted-syntax": [
        "error",
        // (no-restricted-properties also sees the computed forms, el["innerHTML"].)
        { selector: "NewExpression[callee.name='DOMParser']", message: html },
      ],
      // eval, and `new Function(…)` / `Function(…)`.
      "no-eval": ["error", { allowIndirect: false }],
      "no-new-func": "error",
      "no-script-url": "error",
      // Also the string forms of setTimeout/setInterval (recommendedTypeChecked has it; kept explicit).
      "@typescript-eslint/no-implied-eval": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      eqeqeq: ["error", "always"],
      // `_`-prefixed names are deliberately unused (as with tsc's noUnusedParameters), and a
      // property picked out to leave it from a rest object (`{ sealed: _, ...rest }`) is used.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // Off: every finding was an async method implementing a Promise-returning interface
      // (ts-mls callbacks, transports, journals, test fakes) with nothing to await; removing
      // `async` would only trade it for Promise.resolve(). The mistakes that matter with
      // promises are no-floating-promises' and no-misused-promises'.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // This file and other plain JavaScript: no type information to lint with.
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
