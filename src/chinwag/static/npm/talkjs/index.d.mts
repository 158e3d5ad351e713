// Types of the ES module entry point (index.mjs): `import Talk from "talkjs"` and `{ Talk }`.
import { Talk } from "./talk.js";

export default Talk;
export { Talk };
