// `session.createChatbox()`: one conversation, mounted into the integrator's element.

import { STYLES } from "./styles.js";
import { fitHeight, h, shadowHost } from "./dom.js";
import { Box, mountTarget } from "./box.js";
import { ConversationView } from "./view.js";

export class Chatbox extends Box {
  constructor(session, options) {
    super(session, options);
    this.view = new ConversationView(this);
  }

  mount(element) {
    const target = mountTarget(element, "chatbox");
    target.replaceChildren(); // the integrator's "Loading chat..." placeholder goes
    const { host, root } = shadowHost(target, STYLES, "chinwag-chatbox");
    this.host = host;
    fitHeight(target, host);
    root.append(h("div", { class: "frame" }, this.view.el));
    if (this.feed) this.view.attach(this.feed);
    return Promise.resolve();
  }
}
