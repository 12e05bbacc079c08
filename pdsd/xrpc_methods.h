/*
 * xrpc_methods: THE route table, one line per XRPC method pdsd serves
 * (the reference PDS's 67 com.atproto.* and 11 app.bsky.* methods).
 * Included with X defined as
 *
 *	X(nsid, handler, http method, auth, auth flags, input,
 *	  body limit, rate class)
 *
 * and XA defined as the same row with the handler's argument after it
 *
 *	XA(nsid, handler, arg, http method, ...)
 *
 * (X's rows give 0), by xrpc_routes.c (the table) and api.h (the
 * handler prototypes).
 * Short names: G/P = HTTP_GET/HTTP_POST; auth, flags, input and rate
 * drop their XRPC_AUTH_/XRPC_AF_/XRPC_IN_/XRPC_RATE_ prefixes (see the
 * XM_* macros in xrpc_routes.c).  Auth per reference-pds §1:
 * opt = ACCESS with OPTIONAL|OR_ADMIN.  NOLEX marks the methods pdsd
 * forwards to another server, which checks their parameters and input
 * against the lexicon; the router checks every other method's.  The
 * most common rows have a macro of their own (GET_ACCESS(nsid,
 * handler), ...), which stands for the same X row.  No include guard
 * on purpose.
 */

#define XM_OPT	XF(OPTIONAL) | XF(OR_ADMIN)
#define JSONB	XRPC_BODY_JSON
#define WRITEB	XRPC_BODY_JSON_WRITE

/* The row shapes most methods share. */
#define GET_PUBLIC(n, fn)	X(n, fn, G, NONE, 0, NONE, 0, DEFAULT)
#define GET_ACCESS(n, fn)	X(n, fn, G, ACCESS, 0, NONE, 0, DEFAULT)
#define GET_OPT(n, fn)		X(n, fn, G, ACCESS, XM_OPT, NONE, 0, DEFAULT)
#define GET_MOD(n, fn)		X(n, fn, G, MOD, 0, NONE, 0, DEFAULT)
#define POST_MOD(n, fn)		X(n, fn, P, MOD, 0, JSON, JSONB, DEFAULT)
#define POST_ADMIN(n, fn)	X(n, fn, P, ADMIN, 0, JSON, JSONB, DEFAULT)

/* com.atproto.server */
GET_PUBLIC("com.atproto.server.describeServer", api_server_describe_server)
X("com.atproto.server.createAccount", api_server_create_account,
    P, SERVICE, XF(OPTIONAL) | XF(CPU), JSON, JSONB, CREATE_ACCOUNT)
X("com.atproto.server.createSession", api_server_create_session,
    P, NONE, XF(CPU), JSON, JSONB, CREATE_SESSION)
X("com.atproto.server.refreshSession", api_server_refresh_session,
    P, REFRESH, 0, NONE, JSONB, DEFAULT)
X("com.atproto.server.deleteSession", api_server_delete_session,
    P, REFRESH, XF(ALLOW_EXPIRED), NONE, JSONB, DEFAULT)
X("com.atproto.server.getSession", api_server_get_session,
    G, ACCESS, XF(SIGNUP_QUEUED), NONE, 0, DEFAULT)
X("com.atproto.server.createAppPassword", api_server_create_app_password,
    P, FULL, XF(NO_OAUTH) | XF(CHECK_TAKEDOWN), JSON, JSONB, DEFAULT)
X("com.atproto.server.listAppPasswords", api_server_list_app_passwords,
    G, ACCESS, XF(NO_OAUTH), NONE, 0, DEFAULT)
X("com.atproto.server.revokeAppPassword", api_server_revoke_app_password,
    P, ACCESS, XF(NO_OAUTH), JSON, JSONB, DEFAULT)
POST_ADMIN("com.atproto.server.createInviteCode", api_server_create_invite_code)
POST_ADMIN("com.atproto.server.createInviteCodes",
    api_server_create_invite_codes)
X("com.atproto.server.getAccountInviteCodes",
    api_server_get_account_invite_codes,
    G, FULL, 0, NONE, 0, DEFAULT)
XA("com.atproto.server.requestEmailConfirmation", api_email_request_token,
    EMAIL_CONFIRM_EMAIL, P, ACCESS, XF(CHECK_TAKEDOWN) | XF(NET), NONE,
    JSONB, EMAIL)
X("com.atproto.server.confirmEmail", api_server_confirm_email,
    P, ACCESS, XF(CHECK_TAKEDOWN), JSON, JSONB, DEFAULT)
X("com.atproto.server.requestEmailUpdate", api_server_request_email_update,
    P, FULL, XF(CHECK_TAKEDOWN) | XF(NET), NONE, JSONB, EMAIL)
X("com.atproto.server.updateEmail", api_server_update_email,
    P, FULL, XF(CHECK_TAKEDOWN), JSON, JSONB, DEFAULT)
X("com.atproto.server.requestPasswordReset",
    api_server_request_password_reset,
    P, NONE, XF(NET), JSON, JSONB, PASSWORD_RESET_REQUEST)
X("com.atproto.server.resetPassword", api_server_reset_password,
    P, NONE, XF(CPU), JSON, JSONB, RESET_PASSWORD)
XA("com.atproto.server.requestAccountDelete", api_email_request_token,
    EMAIL_DELETE_ACCOUNT, P, FULL, XF(CHECK_TAKEDOWN) | XF(NET), NONE,
    JSONB, EMAIL)
X("com.atproto.server.deleteAccount", api_server_delete_account,
    P, NONE, XF(CPU), JSON, JSONB, DELETE_ACCOUNT)
X("com.atproto.server.getServiceAuth", api_server_get_service_auth,
    G, ACCESS, XF(TAKENDOWN), NONE, 0, DEFAULT)
X("com.atproto.server.checkAccountStatus", api_server_check_account_status,
    G, ACCESS, XF(NET), NONE, 0, DEFAULT)
X("com.atproto.server.activateAccount", api_server_activate_account,
    P, FULL, XF(NET), NONE, JSONB, DEFAULT)
X("com.atproto.server.deactivateAccount", api_server_deactivate_account,
    P, FULL, XF(TAKENDOWN) | XF(NET), JSON, JSONB, DEFAULT)
X("com.atproto.server.reserveSigningKey", api_server_reserve_signing_key,
    P, NONE, 0, JSON, JSONB, RESERVE_KEY)

/* com.atproto.repo */
XA("com.atproto.repo.createRecord", api_repo_write_record, REPO_CREATE,
    P, ACCESS, 0, JSON, WRITEB, REPO_WRITE)
XA("com.atproto.repo.putRecord", api_repo_write_record, REPO_PUT,
    P, ACCESS, 0, JSON, WRITEB, REPO_WRITE)
XA("com.atproto.repo.deleteRecord", api_repo_write_record, REPO_DELETE,
    P, ACCESS, 0, JSON, JSONB, REPO_WRITE)
X("com.atproto.repo.applyWrites", api_repo_apply_writes,
    P, ACCESS, 0, JSON, WRITEB, REPO_WRITE)
X("com.atproto.repo.uploadBlob", api_repo_upload_blob,
    P, ACCESS, XF(OR_SERVICE) | XF(CHECK_TAKEDOWN) | XF(BLOBS), BYTES,
    XRPC_BODY_BLOB, UPLOAD_BLOB)
GET_PUBLIC("com.atproto.repo.getRecord", api_repo_get_record)
GET_PUBLIC("com.atproto.repo.listRecords", api_repo_list_records)
X("com.atproto.repo.describeRepo", api_repo_describe_repo,
    G, NONE, XF(NET), NONE, 0, DEFAULT)
X("com.atproto.repo.importRepo", api_repo_import_repo,
    P, FULL, XF(CHECK_TAKEDOWN) | XF(NET), BYTES, XRPC_BODY_IMPORT, DEFAULT)
GET_ACCESS("com.atproto.repo.listMissingBlobs", api_repo_list_missing_blobs)

/* com.atproto.sync */
XA("com.atproto.sync.getRepo", api_sync_get_repo, true,
    G, ACCESS, XM_OPT | XF(TAKENDOWN), NONE, 0, GET_REPO)
GET_OPT("com.atproto.sync.getBlocks", api_sync_get_blocks)
GET_OPT("com.atproto.sync.getRecord", api_sync_get_record)
XA("com.atproto.sync.getLatestCommit", api_sync_get_latest_commit, false,
    G, ACCESS, XM_OPT, NONE, 0, DEFAULT)
GET_PUBLIC("com.atproto.sync.getRepoStatus", api_sync_get_repo_status)
X("com.atproto.sync.listBlobs", api_sync_list_blobs,
    G, ACCESS, XM_OPT | XF(TAKENDOWN), NONE, 0, DEFAULT)
X("com.atproto.sync.getBlob", api_sync_get_blob,
    G, ACCESS, XM_OPT | XF(TAKENDOWN) | XF(BLOBS), NONE, 0, DEFAULT)
GET_PUBLIC("com.atproto.sync.listRepos", api_sync_list_repos)
X("com.atproto.sync.subscribeRepos", api_sync_subscribe_repos,
    G, NONE, 0, NONE, 0, EXEMPT)
XA("com.atproto.sync.getCheckout", api_sync_get_repo, false,
    G, ACCESS, XM_OPT, NONE, 0, DEFAULT)
XA("com.atproto.sync.getHead", api_sync_get_latest_commit, true,
    G, ACCESS, XM_OPT, NONE, 0, DEFAULT)

/* com.atproto.identity */
X("com.atproto.identity.resolveHandle", api_identity_resolve_handle,
    G, NONE, XF(NET), NONE, 0, DEFAULT)
X("com.atproto.identity.updateHandle", api_identity_update_handle,
    P, ACCESS, XF(CHECK_TAKEDOWN) | XF(NET), JSON, JSONB, HANDLE)
GET_ACCESS("com.atproto.identity.getRecommendedDidCredentials",
    api_identity_get_recommended_did_credentials)
XA("com.atproto.identity.requestPlcOperationSignature",
    api_email_request_token, EMAIL_PLC_OPERATION,
    P, FULL, XF(TAKENDOWN) | XF(NET), NONE, JSONB, DEFAULT)
X("com.atproto.identity.signPlcOperation", api_identity_sign_plc_operation,
    P, FULL, XF(TAKENDOWN) | XF(NET), JSON, JSONB, DEFAULT)
X("com.atproto.identity.submitPlcOperation",
    api_identity_submit_plc_operation,
    P, ACCESS, XF(NET), JSON, JSONB, DEFAULT)

/* com.atproto.admin */
X("com.atproto.admin.updateSubjectStatus", api_admin_update_subject_status,
    P, MOD, XF(BLOBS), JSON, JSONB, DEFAULT)
GET_MOD("com.atproto.admin.getSubjectStatus", api_admin_get_subject_status)
GET_MOD("com.atproto.admin.getAccountInfo", api_admin_get_account_info)
GET_MOD("com.atproto.admin.getAccountInfos", api_admin_get_account_infos)
XA("com.atproto.admin.enableAccountInvites", api_admin_account_invites,
    true, P, MOD, 0, JSON, JSONB, DEFAULT)
XA("com.atproto.admin.disableAccountInvites", api_admin_account_invites,
    false, P, MOD, 0, JSON, JSONB, DEFAULT)
POST_MOD("com.atproto.admin.disableInviteCodes", api_admin_disable_invite_codes)
GET_MOD("com.atproto.admin.searchAccounts", api_admin_search_accounts)
GET_MOD("com.atproto.admin.getInviteCodes", api_admin_get_invite_codes)
X("com.atproto.admin.updateAccountHandle", api_admin_update_account_handle,
    P, ADMIN, XF(NET), JSON, JSONB, DEFAULT)
POST_ADMIN("com.atproto.admin.updateAccountEmail",
    api_admin_update_account_email)
X("com.atproto.admin.updateAccountPassword",
    api_admin_update_account_password, P, ADMIN, XF(CPU), JSON, JSONB,
    DEFAULT)
X("com.atproto.admin.sendEmail", api_admin_send_email,
    P, MOD, XF(NET), JSON, JSONB, DEFAULT)
X("com.atproto.admin.deleteAccount", api_admin_delete_account,
    P, ADMIN, XF(BLOBS), JSON, JSONB, DEFAULT)

/* com.atproto.moderation and com.atproto.temp */
X("com.atproto.moderation.createReport", api_proxy_forward,
    P, ACCESS, XF(TAKENDOWN) | XF(NET) | XF(NOLEX), JSON, JSONB, DEFAULT)
X("com.atproto.temp.checkSignupQueue", api_temp_check_signup_queue,
    G, ACCESS, XF(SIGNUP_QUEUED) | XF(NO_OAUTH), NONE, 0, DEFAULT)

/* app.bsky methods the PDS serves (locally or through the AppView) */
X("app.bsky.actor.getPreferences", api_bsky_actor_get_preferences,
    G, ACCESS, XF(TAKENDOWN) | XF(OR_MOD_SERVICE) | XF(NET) |
    XF(PROXY_HDR), NONE, 0, DEFAULT)
X("app.bsky.actor.putPreferences", api_bsky_actor_put_preferences,
    P, ACCESS, XF(CHECK_TAKEDOWN) | XF(NET) | XF(PROXY_HDR), JSON, JSONB,
    DEFAULT)
XA("app.bsky.actor.getProfile", api_bsky_read_after_write, RAW_PROFILE,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
XA("app.bsky.actor.getProfiles", api_bsky_read_after_write, RAW_PROFILES,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
XA("app.bsky.feed.getTimeline", api_bsky_read_after_write, RAW_TIMELINE,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
XA("app.bsky.feed.getAuthorFeed", api_bsky_read_after_write, RAW_AUTHOR,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
X("app.bsky.feed.getActorLikes", api_proxy_forward,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
XA("app.bsky.feed.getPostThread", api_bsky_read_after_write, RAW_THREAD,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
X("app.bsky.feed.getFeed", api_bsky_feed_get_feed,
    G, ACCESS, XF(NET) | XF(NOLEX), NONE, 0, DEFAULT)
X("app.bsky.notification.registerPush", api_bsky_notification_push,
    P, ACCESS, XF(SIGNUP_QUEUED) | XF(NET) | XF(NOLEX), JSON, JSONB, DEFAULT)
X("app.bsky.notification.unregisterPush", api_bsky_notification_push,
    P, ACCESS, XF(NET) | XF(NOLEX), JSON, JSONB, DEFAULT)

#undef GET_PUBLIC
#undef GET_ACCESS
#undef GET_OPT
#undef GET_MOD
#undef POST_MOD
#undef POST_ADMIN
#undef XM_OPT
#undef JSONB
#undef WRITEB
