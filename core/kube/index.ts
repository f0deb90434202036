/** Reading the Kubernetes API through kubectl into typed objects: schemas, parsing, and the Kubectl interface. */
export * from './schemas.js';
export * from './parse.js';
export * from './kubectl.js';
