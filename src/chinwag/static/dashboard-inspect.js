// The inspection page: the live conversation, opened as the supervisor guest with its invite.
(async () => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  await Talk.ready;
  const me = new Talk.User(boot.me);
  const session = new Talk.Session({ appId: boot.appId, me, signature: boot.signature });
  const chatbox = session.createChatbox();
  chatbox.mount(document.getElementById("live"));
  chatbox.select(boot.conversationId, { asGuest: true, invite: boot.invite });
})();
