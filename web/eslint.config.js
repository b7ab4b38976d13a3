import js from '@eslint/js'
import globals from 'globals'
import reactHooks from 'eslint-plugin-react-hooks'
import reactRefresh from 'eslint-plugin-react-refresh'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist', 'test-results', 'playwright-report', 'src/api/schema.d.ts'] },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks, 'react-refresh': reactRefresh },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'react-refresh/only-export-components': ['warn', { allowConstantExport: true }],
      // every call to the API goes through the generated client (src/api/client.ts)
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Use the generated API client: import { api } from "../api/client"' },
      ],
    },
  },
  {
    files: ['src/api/client.ts', 'e2e/**', '*.config.ts'],
    rules: { 'no-restricted-globals': 'off' },
  },
)
