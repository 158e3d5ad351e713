// `onX(handler)` subscriptions returning `{unsubscribe}`, on top of the platform's EventTarget.

export class Emitter extends EventTarget {
  /** Call `handler(detail)` on every `type` event; returns `{unsubscribe}`. */
  subscribe(type, handler) {
    const listener = (event) => {
      try {
        handler(event.detail);
      } catch (error) {
        console.error(`[Chinwag] a ${type} handler threw:`, error);
      }
    };
    this.addEventListener(type, listener);
    return { unsubscribe: () => this.removeEventListener(type, listener) };
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
