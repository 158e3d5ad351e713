// Types of the CommonJS entry point (index.cjs): `require("talkjs").default` and `.Talk`.
import { Talk } from "./talk";

export default Talk;
export { Talk };
