// ESLint (flat config) for the site's own JavaScript and its node unit tests.
// Run by scripts/test.sh: node_modules/.bin/eslint .
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    ignores: ["node_modules/**", "var/**", "staticfiles/**", ".venv/**", "test-artifacts/**"],
  },
  js.configs.recommended,
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      // The studio's files are ES modules; the small page scripts are classic scripts.
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["static/js/checkout-status.js", "static/js/royalties.js", "static/js/tables.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["tests/**/*.mjs", "eslint.config.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
  },
];
