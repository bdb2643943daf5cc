// The root's rules, and the runner's build output left alone (npm run build
// writes test/esm/dist, which the root's `dist/` ignore does not reach).
import root from '../../eslint.config.mjs';

export default [{ ignores: ['test/esm/dist/', 'node_modules/'] }, ...root];
