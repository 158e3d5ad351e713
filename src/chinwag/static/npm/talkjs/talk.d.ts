// Types of the Talk SDK that a Chinwag server serves (its /talk.js), as `import Talk from "talkjs"`
// sees it. They describe what Chinwag implements: the hosted product's classic `Talk` names that
// Chinwag supports (docs/sdk.md in the Chinwag repository lists them), plus Chinwag's extensions,
// marked "Chinwag extension". Members Chinwag does not implement are left out, so that using one
// is a compile error rather than a surprise at run time.

export declare namespace Talk {
  /**
   * Resolves once the SDK has loaded from the Chinwag server; from then on the other members of
   * `Talk` are there. Reading it where `window` is undefined (server-side rendering) throws.
   */
  const ready: Promise<void>;

  /** The SDK's version string, for example "chinwag-1". */
  const version: string;

  /** The id of the one-on-one conversation of two users (users or user ids). */
  function oneOnOneId(me: User | UserId, other: User | UserId): string;

  /** Chinwag extension: 128 random bits as 32 hex characters, an unguessable conversation id. */
  function randomConversationId(): string;

  /** Chinwag extension: the same as `randomConversationId()`. */
  function unguessableId(): string;

  type UserId = string | number;
  type Access = "ReadWrite" | "Read";
  /** Chinwag extension: a participant's access may also be "None" (history frozen, no writing). */
  type ParticipantAccess = Access | "None";
  /** Chinwag extension: who may watch a conversation as a guest. */
  type GuestAccess = "ReadWrite" | "Read" | "None";
  type Notify = boolean | "MentionsOnly";

  /** What `onX(handler)` methods return. */
  interface Subscription {
    unsubscribe(): void;
  }

  // --- errors ------------------------------------------------------------------------------

  const ErrorCode: {
    readonly NOTIFICATIONS_PERMISSION_DENIED: 0;
    readonly NOTIFICATIONS_NOT_SUPPORTED: 1;
    readonly ARGUMENT_INVALID: 2;
  };
  type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

  /** A wrong argument given to the SDK. */
  class Error extends globalThis.Error {
    constructor(code: ErrorCode, message?: string);
    readonly code: ErrorCode;
  }

  /** Chinwag extension: a request the server refused, with what to change. */
  class ChinwagError extends globalThis.Error {
    constructor(status: number, body?: { errorCode?: string; reasons?: string[] } | null);
    /** The HTTP-like status, for example 403. */
    readonly status: number;
    /** A stable code such as "SYNC_NOT_ALLOWED", "NOT_A_PARTICIPANT" or "UNAUTHORIZED". */
    readonly errorCode: string;
    readonly reasons: string[];
    /** What to change, in a sentence (empty when there is nothing to add). */
    readonly hint: string;
  }

  // --- users -------------------------------------------------------------------------------

  interface UserOptions {
    id: UserId;
    name: string;
    email?: string | string[] | null;
    phone?: string | string[] | null;
    photoUrl?: string | null;
    welcomeMessage?: string | null;
    /** The role's name; "default" when unset. */
    role?: string | null;
    /** @deprecated The old name of `role`. */
    configuration?: string | null;
    locale?: string | null;
    custom?: { [key: string]: string | null } | null;
    availabilityText?: string | null;
  }

  /**
   * A user: `new Talk.User({id, name, ...})` syncs these fields when the session starts (needs user
   * synchronization via the browser); `new Talk.User(id)` refers to an existing user and never
   * syncs.
   */
  class User {
    constructor(options: UserOptions | UserId);
    readonly id: string;
    name?: string;
    email?: string | string[] | null;
    phone?: string | string[] | null;
    photoUrl?: string | null;
    welcomeMessage?: string | null;
    role?: string | null;
    locale?: string | null;
    custom?: { [key: string]: string | null } | null;
    availabilityText?: string | null;
  }

  /** A user as the server knows them. */
  interface UserSnapshot {
    id: string;
    name: string;
    photoUrl?: string | null;
    role?: string | null;
    locale?: string | null;
    welcomeMessage?: string | null;
    custom?: { [key: string]: string };
    [field: string]: unknown;
  }

  // --- session -----------------------------------------------------------------------------

  interface SessionOptions {
    appId: string;
    /** The current user (classic). */
    me?: User;
    /** An existing user's id, instead of `me`. */
    userId?: UserId;
    /** A user JWT (HS256, `tokenType: "user"`, `iss` = appId, `sub` = userId). */
    token?: string;
    /** Called for the first token when `token` is unset, and again when the session expires. */
    tokenFetcher?: () => string | Promise<string>;
    /** @deprecated Hex HMAC-SHA256 of the user id, keyed by the app's secret key. */
    signature?: string;
    /** Chinwag extension: the server's address, when it is not the one /talk.js came from. */
    host?: string;
  }

  /** A message as the server sends it. */
  interface MessageData {
    id: string;
    conversationId: string;
    type: "UserMessage" | "SystemMessage";
    senderId: string | null;
    text: string;
    custom: { [key: string]: string };
    createdAt: number;
    editedAt?: number | null;
    origin?: string;
    referencedMessageId?: string | null;
    [field: string]: unknown;
  }

  interface Participation {
    access: ParticipantAccess;
    notify: Notify;
    [field: string]: unknown;
  }

  /** A conversation as the server sends it (what `currentConversation` and events carry). */
  interface ConversationData {
    id: string;
    subject?: string | null;
    photoUrl?: string | null;
    welcomeMessages?: string[] | null;
    custom?: { [key: string]: string };
    participants?: { [userId: string]: Participation };
    lastMessage?: MessageData | null;
    createdAt?: number;
    /** The current user's access, in the user's own list of conversations. */
    access?: ParticipantAccess;
    unreadMessageCount?: number;
    /** Chinwag extension. */
    guestAccess?: GuestAccess;
    [field: string]: unknown;
  }

  /** What `session.onMessage` handlers get. */
  interface Message {
    id: string;
    conversation: ConversationData;
    isByMe: boolean;
    senderId: string | null;
    sender: UserSnapshot | null;
    body: string;
    type: "text";
    timestamp: number;
    read: boolean;
    origin?: string;
    custom: { [key: string]: string };
    attachment: null;
    location: null;
  }

  interface UnreadConversation {
    conversation: ConversationData;
    lastMessage: MessageData | null;
    unreadMessageCount: number;
  }

  interface Unreads {
    /** Calls `handler` with the unread conversations now and whenever they change. */
    onChange(handler: (unreads: UnreadConversation[]) => void): Subscription;
  }

  class Session {
    constructor(options: SessionOptions);
    readonly appId: string;
    readonly me: User;
    readonly currentUser: User;
    readonly isAlive: boolean;
    readonly unreads: Unreads;
    /** Chinwag extension: resolves when connected, rejects with a `ChinwagError` if it cannot be. */
    readonly ready: Promise<void>;
    hasValidCredentials(): Promise<boolean>;
    getOrCreateConversation(conversationId: UserId): ConversationBuilder;
    /** The conversation with this id, as a builder. */
    conversation(conversationId: UserId): ConversationBuilder;
    createChatbox(options?: ChatboxOptions): Chatbox;
    createChatbox(conversation: ConversationSelector | null | undefined, options?: ChatboxOptions): Chatbox;
    createInbox(options?: InboxOptions): Inbox;
    createPopup(options?: PopupOptions): Popup;
    createPopup(conversation: ConversationSelector | null | undefined, options?: PopupOptions): Popup;
    getChatboxes(): Chatbox[];
    getInboxes(): Inbox[];
    getPopups(): Popup[];
    /** Every message sent or received where the user is a participant (never as a guest). */
    onMessage(handler: (message: Message) => void): Subscription;
    /** Chinwag extension: the realtime connection's state. */
    readonly connectionState: ConnectionState;
    /** Chinwag extension: `handler({state, previous, error})` on every change of the state. */
    onConnectionChange(handler: (change: ConnectionChange) => void): Subscription;
    /** Chinwag extension: try to reconnect now instead of at the end of the current wait. */
    reconnect(): void;
    /** Turn desktop notifications on or off for this user in this browser (asks the browser's
     * permission when needed; an alert on refusal unless `alertOnFailure` is false). */
    setDesktopNotificationEnabled(isEnabled: boolean, options?: { alertOnFailure?: boolean }): Promise<void>;
    /** Chinwag extension: whether this user turned desktop notifications on in this browser. */
    readonly desktopNotificationsEnabled: boolean;
    /** With a handler, the page decides what a click opens; without, the UI opens the chat. */
    onDesktopNotificationClicked(handler: (event: DesktopNotificationClickedEvent) => void): Subscription;
    onBrowserPermissionNeeded(handler: (event: BrowserPermissionNeededEvent) => void): Subscription;
    onBrowserPermissionDenied(handler: (event: { type: "notifications"; reason: string }) => void): Subscription;
    destroy(): void;
  }

  interface DesktopNotificationClickedEvent {
    conversation: ConversationData;
    message: { id: string; conversationId: string; senderId: string | null; text: string };
  }

  interface BrowserPermissionNeededEvent {
    type: "notifications";
    /** Ask later yourself (call `setDesktopNotificationEnabled(true)` again). */
    preventDefault(): void;
  }

  /** Chinwag extension: "connected" means caught up after a resume too. */
  type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline" | "closed";

  interface ConnectionChange {
    state: ConnectionState;
    previous: ConnectionState;
    error: ChinwagError | null;
  }

  // --- conversations -----------------------------------------------------------------------

  interface ParticipationSettings {
    access?: ParticipantAccess;
    notify?: Notify;
  }

  interface ConversationAttributes {
    subject?: string | null;
    photoUrl?: string | null;
    custom?: { [key: string]: string | null } | null;
    welcomeMessages?: string[] | null;
    /** Chinwag extension. */
    guestAccess?: GuestAccess;
  }

  /** Chinwag extension: an invite link's token and terms. */
  interface Invite {
    id: string;
    token: string;
    access: "ReadWrite" | "Read";
    expiresAt: number | null;
    [field: string]: unknown;
  }

  interface GuestRestriction {
    durationSeconds?: number;
    reason?: string;
  }

  /** `session.getOrCreateConversation(id)`: changes are sent in the order they are made. */
  class ConversationBuilder {
    /** Made by `session.getOrCreateConversation(id)`. */
    private constructor();
    readonly id: string;
    subject?: string | null;
    photoUrl?: string | null;
    custom?: { [key: string]: string | null } | null;
    welcomeMessages?: string[] | null;
    /** Add or change a participant. The promise is a Chinwag extension. */
    setParticipant(user: User | UserId, settings?: ParticipationSettings): Promise<void>;
    /** `null` clears a field, `undefined` keeps it. The promise is a Chinwag extension. */
    setAttributes(attributes: ConversationAttributes): Promise<void>;
    sendMessage(text: string, options?: { custom?: { [key: string]: string } }): Promise<unknown>;
    /** Removes the current user; resolves to whether it worked. */
    leave(): Promise<boolean>;
    /** Chinwag extension: resolves once every change made so far reached the server. */
    readonly synced: Promise<void>;
    /** Chinwag extension (moderators): how many guests watch now. */
    guestCount(): Promise<number>;
    /** Chinwag extension (moderators). */
    kickGuest(user: User | UserId, options?: { reason?: string }): Promise<void>;
    /** Chinwag extension (moderators). */
    muteGuest(user: User | UserId, options?: GuestRestriction): Promise<void>;
    /** Chinwag extension (moderators). */
    unmuteGuest(user: User | UserId): Promise<void>;
    /** Chinwag extension (moderators). */
    banGuest(user: User | UserId, options?: GuestRestriction): Promise<void>;
    /** Chinwag extension (moderators). */
    unbanGuest(user: User | UserId): Promise<void>;
    /** Chinwag extension (moderators): resolves to the invite; pass `token` to `select`. */
    createInvite(options?: { access?: "ReadWrite" | "Read"; expiresInSeconds?: number }): Promise<Invite>;
    /** Chinwag extension (moderators). */
    revokeInvite(inviteId: string): Promise<void>;
  }

  /** What `select` and `create*` take: a builder, an id or anything with an `id`. */
  type ConversationSelector = ConversationBuilder | UserId | { id: UserId };

  // --- UI ----------------------------------------------------------------------------------

  interface MessageFieldOptions {
    placeholder?: string;
    spellcheck?: boolean;
    enterSendsMessage?: boolean;
    visible?: boolean;
    autofocus?: false | "smart";
  }

  interface ChatboxOptions {
    showChatHeader?: boolean;
    chatTitleMode?: "subject" | "participants";
    chatSubtitleMode?: "subject" | "participants" | null;
    messageField?: MessageFieldOptions;
  }

  interface ConversationPredicate {
    access?: ParticipantAccess | ParticipantAccess[] | ["==" | "!=", ParticipantAccess];
    hasUnreadMessages?: boolean;
  }

  interface InboxOptions extends ChatboxOptions {
    /** @deprecated Select a conversation with `inbox.select(...)`. */
    selected?: ConversationSelector | null;
    showFeedHeader?: boolean;
    /** Chinwag extension: the desktop notifications switch in the list's header (default true). */
    showNotificationToggle?: boolean;
    feedConversationTitleMode?: "participants" | "subject" | "auto";
    feedFilter?: ConversationPredicate;
  }

  interface PopupOptions extends ChatboxOptions {
    keepOpen?: boolean;
    launcher?: "close-only" | "always" | "never";
    showCloseInHeader?: boolean;
  }

  interface SelectOptions {
    /** Watch and write without becoming a participant (no effect for participants). */
    asGuest?: boolean;
    /** Chinwag extension: a signed invite token, instead of an unguessable id. */
    invite?: string;
  }

  interface SendMessageEvent {
    message: { text: string; custom: { [key: string]: string }; type: "text" };
    me: User;
    conversation: ConversationData;
    /** Change what is sent, or `{cancel: true}` to send nothing. */
    override(params: { text?: string; custom?: { [key: string]: string }; cancel?: boolean }): void;
  }

  interface ConversationSelectedEvent {
    conversation: ConversationData | null;
    me: User;
  }

  interface MessageField {
    focus(): void;
    setText(text: string): void;
    typeText(text: string): void;
    getText(): string;
    setVisible(visible: boolean): void;
  }

  /** What the Chatbox, the Inbox and the Popup share. */
  interface UIBox {
    readonly isAlive: boolean;
    readonly currentConversation: ConversationData | null;
    readonly messageField: MessageField;
    select(conversation: ConversationSelector | null, options?: SelectOptions): Promise<void>;
    onSendMessage(handler: (event: SendMessageEvent) => void): Subscription;
    onConversationSelected(handler: (event: ConversationSelectedEvent) => void): Subscription;
    /** The same as `session.setDesktopNotificationEnabled(isEnabled)`. */
    toggleDesktopNotifications(isEnabled: boolean): Promise<void>;
    destroy(): void;
  }

  interface Chatbox extends UIBox {
    /** Mount into an element (or a CSS selector); its contents are replaced. */
    mount(element: Element | string | null): Promise<void>;
  }

  interface Inbox extends UIBox {
    mount(element: Element | string | null): Promise<void>;
    onDesktopNotificationToggled(handler: (event: { isEnabled: boolean }) => void): Subscription;
  }

  interface Popup extends UIBox {
    /** Append to the page; shown at once unless `show` is false. */
    mount(options?: { show?: boolean }): Promise<void>;
    show(): void;
    hide(): void;
    onOpen(handler: () => void): Subscription;
    onClose(handler: () => void): Subscription;
  }
}
