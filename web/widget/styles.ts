// The widget's stylesheet, scoped by its Shadow DOM. Colours meet WCAG 2.1 AA contrast
// (4.5:1 for text); focus is always visible; the window fills a phone screen below 480 px.

export const css = `
:host { all: initial; }
[hidden] { display: none !important; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.launcher { display: flex; align-items: center; justify-content: center; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px;
  border-radius: 50%; border: none; background: #1d4ed8; color: #fff; font-size: 26px; cursor: pointer;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launcher .unread { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; border-radius: 11px;
  background: #b91c1c; color: #fff; font-size: 12px; font-weight: 700; display: flex; align-items: center; justify-content: center; padding: 0 6px; }
button:focus-visible, textarea:focus-visible, input:focus-visible, a:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000; width: 370px; height: min(600px, calc(100vh - 110px));
  display: flex; flex-direction: column; background: #fff; color: #111827; border-radius: 14px; overflow: hidden;
  box-shadow: 0 10px 40px rgba(0,0,0,.3); font-size: 15px; line-height: 1.4; }
@media (max-width: 480px) { .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; } }
header { background: #1d4ed8; color: #fff; padding: 12px 14px; display: flex; align-items: flex-start; gap: 8px; }
header h2 { font-size: 16px; margin: 0; flex: 1; }
header .sub svg { vertical-align: -1px; }
header .sub { font-size: 12px; opacity: .95; display: block; font-weight: normal; margin-top: 2px; }
header button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.6); border-radius: 6px;
  padding: 4px 8px; cursor: pointer; font-size: 14px; }
.badges { list-style: none; margin: 0; padding: 6px 14px; background: #ecfdf5; color: #065f46; font-size: 13px; }
.badges:empty { display: none; }
.badges li::before { content: "✓ "; font-weight: bold; }
.alert { margin: 0; padding: 10px 14px; background: #fef2f2; color: #991b1b; border-bottom: 2px solid #b91c1c; font-size: 14px; font-weight: 600; }
.notice { margin: 0; padding: 8px 14px; background: #fffbeb; color: #78350f; font-size: 13px; }
.alert:empty, .notice:empty { display: none; }
.reconnect { display: flex; align-items: center; gap: 10px; margin: 0; padding: 6px 14px; background: #eff6ff; color: #1e3a8a; font-size: 13px; }
.reconnect .countdown { flex: 1; }
.reconnect button { background: #fff; color: #1e3a8a; border: 1px solid #1e3a8a; border-radius: 6px; padding: 3px 8px; font-size: 13px; cursor: pointer; }
.tools { display: flex; gap: 8px; justify-content: flex-end; padding: 6px 14px; border-bottom: 1px solid #e5e7eb; }
.tools button { background: #fff; color: #1e3a8a; border: 1px solid #1e3a8a; border-radius: 6px; padding: 3px 8px; font-size: 13px; cursor: pointer; }
.body { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px; }
.screen h3 { margin: 0 0 8px; font-size: 16px; }
.screen p { margin: 0 0 10px; white-space: pre-wrap; }
.screen label { display: block; font-weight: 600; margin: 10px 0 4px; }
.screen input, .screen textarea { width: 100%; padding: 8px; border: 1px solid #6b7280; border-radius: 6px; font-size: 15px; color: #111827; }
.screen .err { color: #b91c1c; font-size: 13px; }
.primary { background: #1d4ed8; color: #fff; border: none; border-radius: 8px; padding: 10px 14px; font-size: 15px; cursor: pointer; margin-top: 12px; }
.primary:disabled { background: #6b7280; cursor: not-allowed; }
.log { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.visitor { align-self: flex-end; background: #1d4ed8; color: #fff; }
.msg.staff { align-self: flex-start; background: #f3f4f6; color: #111827; }
.msg .who { display: block; font-size: 12px; font-weight: 600; margin-bottom: 2px; }
.msg .status { display: block; font-size: 11px; margin-top: 3px; opacity: .9; text-align: right; }
.event, .unverified { align-self: center; font-size: 13px; color: #374151; text-align: center; }
.unverified { color: #991b1b; font-style: italic; }
.answers { font-size: 13px; color: #374151; background: #f9fafb; padding: 8px; border-radius: 8px; }
.answers dt { font-weight: 600; } .answers dd { margin: 0 0 4px; overflow-wrap: anywhere; }
.typing { min-height: 20px; padding: 0 14px; font-size: 13px; color: #374151; font-style: italic; }
form.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; }
form.composer textarea { flex: 1; resize: none; height: 44px; padding: 10px; border: 1px solid #6b7280; border-radius: 8px; font-size: 15px; }
form.composer button { background: #1d4ed8; color: #fff; border: none; border-radius: 8px; padding: 0 16px; font-size: 15px; cursor: pointer; }
form.composer button.attach { background: #fff; color: #1e3a8a; border: 1px solid #6b7280; padding: 0 10px; }
form.composer button.attach:disabled { color: #6b7280; }
.msg .file { display: inline-flex; align-items: center; gap: 4px; flex-wrap: wrap; }
.msg .file svg { flex: none; }
.msg .save { margin-left: 6px; border: 1px solid currentColor; background: transparent; color: inherit; border-radius: 6px; padding: 2px 8px; font-size: 13px; cursor: pointer; }
.msg .preview-slot { display: block; }
.msg button.preview { display: block; margin-top: 6px; padding: 0; border: 0; background: transparent; cursor: zoom-in; border-radius: 8px; }
.msg button.preview[aria-expanded="true"] { cursor: zoom-out; }
.msg img.preview { display: block; width: auto; height: auto; max-width: min(100%, 240px); max-height: 200px; border-radius: 8px; background: #fff; }
.msg button.preview[aria-expanded="true"] img { max-width: 100%; max-height: none; }
form.composer button:disabled { background: #6b7280; cursor: not-allowed; }
form.composer textarea:disabled { background: #f3f4f6; cursor: not-allowed; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
