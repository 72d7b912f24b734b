/** The strict DER reader lives in common/der.ts (shared with crypto/, which may not import ca/). */
export * from '../../common/der.js';
