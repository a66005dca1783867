//! Maps method and path to a handler: unknown paths are 404, known paths with any
//! method they do not serve 405 (with `Allow`), whatever the method token, and every
//! route but health and the OpenAPI document needs an API key. Browser calls pass CORS
//! (`cors`) first; publishable keys reach only the routes open to them, and their
//! writes count against the rate limit (`limits`).

use crate::http::{auth, cors, faults, limits};
use crate::http::error::ApiResult;
use crate::api::{api_keys, carts, catalog, coupons, customers, locations, meta, orders, reminders, returns, sessions, stock};
use crate::http::problem::Problem;
use omniedge::access::Principal;
use worker::{Env, Method, Request, Response};

enum Route<'a> {
    Health,
    DeepHealth,
    OpenApi,
    ApiKeys,
    ApiKey(&'a str),
    Locations,
    Location(&'a str),
    Products,
    Product(&'a str),
    StockLookup,
    Stock(&'a str),
    StyleStock(&'a str),
    Adjustments(&'a str),
    Customers,
    Customer(&'a str),
    Carts,
    Cart(&'a str),
    CartLine(&'a str, &'a str),
    CartToken(&'a str),
    ShopperSessions,
    Timeline(&'a str),
    Orders,
    Order(&'a str),
    OrderAction(&'a str, &'a str),
    Pickups(&'a str),
    Coupon(&'a str),
    Returns,
    Return(&'a str),
    ReturnAction(&'a str, &'a str),
    ExpectedReturns(&'a str),
    DamagedUnits(&'a str),
    DamagedWriteOffs(&'a str),
    StoreCredit(&'a str),
    /// Tests only (with `FAULT_INJECTION`): many holds at once, for flash-sale tests.
    TestHolds(&'a str),
    TestLegacyStock(&'a str),
    VapidKey,
    PushSubscriptions(&'a str),
    PushSubscription(&'a str, &'a str),
    CartConsents(&'a str),
    CartReminders(&'a str),
    ReminderReport,
    /// The links in reminders: they carry a signed token, no key.
    Unsubscribe,
    ReminderClick(&'a str),
    ReminderShown(&'a str),
    /// Tests only (with `FAULT_INJECTION`): hand a cart's reminder step to the queue again.
    TestReminder(&'a str, &'a str),
}

impl<'a> Route<'a> {
    fn resolve(segments: &[&'a str]) -> Option<Self> {
        Some(match *segments {
            ["v1", "health"] => Route::Health,
            ["v1", "health", "deep"] => Route::DeepHealth,
            ["v1", "openapi.json"] => Route::OpenApi,
            ["v1", "api-keys"] => Route::ApiKeys,
            ["v1", "api-keys", id] => Route::ApiKey(id),
            ["v1", "locations"] => Route::Locations,
            ["v1", "locations", id] => Route::Location(id),
            ["v1", "products"] => Route::Products,
            ["v1", "products", sku] => Route::Product(sku),
            ["v1", "stock", "lookup"] => Route::StockLookup,
            ["v1", "stock", sku] => Route::Stock(sku),
            ["v1", "stock", sku, "style"] => Route::StyleStock(sku),
            ["v1", "stock", sku, "adjustments"] => Route::Adjustments(sku),
            ["v1", "customers"] => Route::Customers,
            ["v1", "customers", id] => Route::Customer(id),
            ["v1", "carts"] => Route::Carts,
            ["v1", "carts", id] => Route::Cart(id),
            ["v1", "carts", id, "lines", sku] => Route::CartLine(id, sku),
            ["v1", "carts", id, "token"] => Route::CartToken(id),
            ["v1", "shopper-sessions"] => Route::ShopperSessions,
            ["v1", "customers", id, "timeline"] => Route::Timeline(id),
            ["v1", "orders"] => Route::Orders,
            ["v1", "orders", id] => Route::Order(id),
            ["v1", "orders", id, action] => Route::OrderAction(id, action),
            ["v1", "locations", id, "pickups"] => Route::Pickups(id),
            ["v1", "coupons", code] => Route::Coupon(code),
            ["v1", "returns"] => Route::Returns,
            ["v1", "returns", id] => Route::Return(id),
            ["v1", "returns", id, action] => Route::ReturnAction(id, action),
            ["v1", "locations", id, "returns"] => Route::ExpectedReturns(id),
            ["v1", "locations", id, "damaged-units"] => Route::DamagedUnits(id),
            ["v1", "locations", id, "damaged-units", "write-offs"] => Route::DamagedWriteOffs(id),
            ["v1", "customers", id, "store-credit"] => Route::StoreCredit(id),
            ["v1", "test-hooks", "stock", sku, "holds"] => Route::TestHolds(sku),
            ["v1", "test-hooks", "stock", sku, "legacy-ledger"] => Route::TestLegacyStock(sku),
            ["v1", "reminders", "vapid-public-key"] => Route::VapidKey,
            ["v1", "carts", id, "push-subscriptions"] => Route::PushSubscriptions(id),
            ["v1", "carts", id, "push-subscriptions", sub] => Route::PushSubscription(id, sub),
            ["v1", "carts", id, "consents"] => Route::CartConsents(id),
            ["v1", "carts", id, "reminders"] => Route::CartReminders(id),
            ["v1", "reminders", "report"] => Route::ReminderReport,
            ["v1", "reminders", "unsubscribe"] => Route::Unsubscribe,
            ["v1", "reminders", "click", token] => Route::ReminderClick(token),
            ["v1", "reminders", "shown", token] => Route::ReminderShown(token),
            ["v1", "test-hooks", "reminders", cart, step] => Route::TestReminder(cart, step),
            _ => return None,
        })
    }

    fn allowed(&self) -> &'static [Method] {
        use Method::*;
        match self {
            Route::Health | Route::DeepHealth | Route::OpenApi | Route::Locations | Route::Products | Route::Stock(_) | Route::StyleStock(_) => &[Get],
            Route::ApiKeys | Route::Adjustments(_) => &[Get, Post],
            Route::Customers | Route::Carts | Route::CartToken(_) | Route::ShopperSessions => &[Post],
            Route::Customer(_) => &[Get, Put],
            Route::Cart(_) => &[Get, Patch],
            Route::CartLine(..) => &[Put, Delete],
            Route::Timeline(_) | Route::Order(_) | Route::Pickups(_) => &[Get],
            Route::Orders => &[Get, Post],
            Route::OrderAction(..) | Route::TestHolds(_) | Route::TestLegacyStock(_) => &[Post],
            Route::Coupon(_) => &[Get, Put],
            Route::ApiKey(_) => &[Delete],
            Route::Returns => &[Get, Post],
            Route::Return(_) | Route::ExpectedReturns(_) | Route::DamagedUnits(_) | Route::StoreCredit(_) => &[Get],
            Route::ReturnAction(..) => &[Post],
            Route::DamagedWriteOffs(_) => &[Post],
            Route::Location(_) | Route::Product(_) => &[Get, Put],
            // `lookup` is also readable as a SKU, so GET falls through to the SKU lookup.
            Route::StockLookup => &[Get, Post],
            Route::VapidKey | Route::CartReminders(_) | Route::ReminderReport | Route::ReminderClick(_) => &[Get],
            Route::PushSubscriptions(_) => &[Get, Post],
            Route::PushSubscription(..) => &[Delete],
            Route::CartConsents(_) | Route::ReminderShown(_) | Route::TestReminder(..) => &[Post],
            Route::Unsubscribe => &[Get, Post],
        }
    }

    fn is_public(&self) -> bool {
        matches!(self, Route::Health | Route::DeepHealth | Route::OpenApi | Route::Unsubscribe | Route::ReminderClick(_) | Route::ReminderShown(_))
    }

    /// What a publishable key (with or without a shopper session) may call: catalog,
    /// stock and locations; carts; a shopper's own profile, timeline and orders. The
    /// handlers decide which cart, profile or order.
    /// Calls that hold stock: setting a cart line, placing an order.
    fn creates_holds(&self, method: &Method) -> bool {
        matches!((self, method), (Route::CartLine(..), Method::Put) | (Route::Orders, Method::Post) | (Route::Returns, Method::Post))
    }

    fn open_to_publishable(&self, method: &Method) -> bool {
        match self {
            Route::Locations | Route::Products | Route::StockLookup | Route::Stock(_) | Route::StyleStock(_) => true,
            Route::Location(_) | Route::Product(_) | Route::Orders => *method == Method::Get,
            Route::Carts | Route::Cart(_) | Route::CartLine(..) | Route::CartToken(_) => true,
            Route::Customer(_) | Route::Timeline(_) | Route::Order(_) => true,
            Route::Health | Route::DeepHealth | Route::OpenApi | Route::ApiKeys | Route::ApiKey(_) | Route::Adjustments(_) | Route::Customers => false,
            Route::OrderAction(..) | Route::Pickups(_) | Route::Coupon(_) | Route::ShopperSessions | Route::TestHolds(_) | Route::TestLegacyStock(_) => false,
            Route::VapidKey | Route::PushSubscriptions(_) | Route::PushSubscription(..) | Route::CartConsents(_) => true,
            Route::CartReminders(_) | Route::ReminderReport | Route::TestReminder(..) => false,
            Route::Unsubscribe | Route::ReminderClick(_) | Route::ReminderShown(_) => false,
            // A shopper's session opens, reads and cancels returns of the shopper's own orders.
            Route::Returns | Route::Return(_) | Route::ReturnAction(..) | Route::StoreCredit(_) => true,
            Route::ExpectedReturns(_) | Route::DamagedUnits(_) => false,
            Route::DamagedWriteOffs(_) => false,
        }
    }
}

/// Answers a request, with the CORS headers its page may see.
pub async fn dispatch(req: Request, env: &Env) -> Response {
    let origin = cors::origin_of(&req);
    let mut grant = cors::Grant::Undecided;
    let response = match serve(req, env, origin.as_deref(), &mut grant).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    cors::finish(response, origin.as_deref(), grant, env).await
}

async fn serve(mut req: Request, env: &Env, origin: Option<&str>, grant: &mut cors::Grant) -> ApiResult<Response> {
    if faults::requested(&req, env) == Some(faults::Fault::Panic) {
        panic!("injected fault: panic before routing");
    }
    let path = req.path();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let route = Route::resolve(&segments)
        .ok_or_else(|| Problem::new(404, "not_found", format!("no route {path}; see /v1/openapi.json")))?;
    if let Some(origin) = origin.filter(|_| cors::is_preflight(&req, origin)) {
        *grant = cors::Grant::Withheld;
        return cors::preflight(origin, route.allowed(), env).await;
    }
    // The method token as sent: `Request::method` reads every token it does not know
    // (QUERY, PROPFIND, PURGE, ...) as GET.
    let sent = req.inner().method();
    let Some(method) = route.allowed().iter().find(|m| m.as_ref() == sent).cloned() else {
        let allow: Vec<&str> = route.allowed().iter().map(|m| m.as_ref()).collect();
        let shown: String = sent.chars().take(32).collect();
        return Err(Problem::new(405, "method_not_allowed", format!("{shown} is not allowed on {path}"))
            .with("allow", allow)
            .into());
    };
    if route.is_public() {
        return match route {
            Route::Health => meta::health(),
            Route::DeepHealth => meta::deep_health(env).await,
            Route::Unsubscribe if method == Post => reminders::unsubscribe(&mut req, env).await,
            Route::Unsubscribe => reminders::unsubscribe_page(&req, env),
            Route::ReminderClick(token) => reminders::click(token, env).await,
            Route::ReminderShown(token) => reminders::shown(token, env).await,
            _ => meta::openapi(),
        };
    }
    let key = auth::authenticate(&req, env).await?;
    // A refused origin gets no CORS headers, so the browser blocks its page.
    *grant = cors::Grant::Withheld;
    *grant = cors::admit(&key, origin)?;
    let caller = key.principal;
    if !route.open_to_publishable(&method) {
        caller.require_secret()?;
    }
    if matches!(caller, Principal::Publishable { .. }) && method != Get {
        limits::public_write(&req, env, caller.key_id()).await?;
    }
    if matches!(caller, Principal::Storefront { .. }) && route.creates_holds(&method) {
        limits::hold_write(&req, env, caller.key_id()).await?;
    }
    use Method::*;
    match (route, method) {
        (Route::ApiKeys, Get) => api_keys::list(env, &caller).await,
        (Route::ApiKeys, _) => api_keys::create(&mut req, env, &caller).await,
        (Route::ApiKey(id), _) => api_keys::revoke(id, env, &caller).await,
        (Route::Locations, _) => locations::list(&req, env).await,
        (Route::Location(id), Get) => locations::get(id, env).await,
        (Route::Location(id), _) => locations::put(id, &mut req, env, &caller).await,
        (Route::Products, _) => catalog::list(&req, env).await,
        (Route::Product(sku), Get) => catalog::get(sku, env).await,
        (Route::Product(sku), _) => catalog::put(sku, &mut req, env, &caller).await,
        (Route::StockLookup, Post) => stock::lookup_batch(&mut req, env).await,
        (Route::StockLookup, _) => stock::lookup_one("lookup", &req, env).await,
        (Route::Stock(sku), _) => stock::lookup_one(sku, &req, env).await,
        (Route::StyleStock(sku), _) => stock::lookup_style(sku, &req, env).await,
        (Route::Adjustments(sku), Get) => stock::list_adjustments(sku, &req, env, &caller).await,
        (Route::Adjustments(sku), _) => stock::adjust(sku, &mut req, env, &caller).await,
        (Route::TestHolds(sku), _) => stock::bulk_hold(sku, &path, &mut req, env, &caller).await,
        (Route::TestLegacyStock(sku), _) => stock::plant_legacy(sku, &path, &mut req, env, &caller).await,
        (Route::Customers, _) => customers::create(&mut req, env, &caller).await,
        (Route::Customer(id), Get) => customers::get(id, env, &caller).await,
        (Route::Customer(id), _) => customers::replace(id, &mut req, env, &caller).await,
        (Route::Carts, _) => carts::create(&mut req, env, &caller).await,
        (Route::Cart(id), Get) => carts::get(id, &req, env, &caller).await,
        (Route::Cart(id), _) => carts::update(id, &mut req, env, &caller).await,
        (Route::CartLine(id, sku), Put) => carts::put_line(id, sku, &mut req, env, &caller).await,
        (Route::CartLine(id, sku), _) => carts::remove_line(id, sku, &req, env, &caller).await,
        (Route::CartToken(id), _) => carts::rotate_token(id, &req, env, &caller).await,
        (Route::ShopperSessions, _) => sessions::create(&mut req, env, &caller).await,
        (Route::Timeline(id), _) => customers::timeline(id, env, &caller).await,
        (Route::Orders, Get) => orders::list(&req, env, &caller).await,
        (Route::Orders, _) => orders::place(&mut req, env, &caller).await,
        (Route::Order(id), _) => orders::get(id, env, &caller).await,
        (Route::OrderAction(id, action), _) => orders::act(id, action, &req, env, &caller).await,
        (Route::Pickups(id), _) => orders::pickups(id, env, &caller).await,
        (Route::Coupon(code), Get) => coupons::get(code, env).await,
        (Route::Coupon(code), _) => coupons::put(code, &mut req, env, &caller).await,
        (Route::VapidKey, _) => reminders::vapid_public_key(env),
        (Route::PushSubscriptions(id), Get) => reminders::list_subscriptions(id, &req, env, &caller).await,
        (Route::PushSubscriptions(id), _) => reminders::register_subscription(id, &mut req, env, &caller).await,
        (Route::PushSubscription(id, sub), _) => reminders::delete_subscription(id, sub, &req, env, &caller).await,
        (Route::CartConsents(id), _) => reminders::record_consent(id, &mut req, env, &caller).await,
        (Route::CartReminders(id), _) => reminders::cart_log(id, env, &caller).await,
        (Route::ReminderReport, _) => reminders::report(&req, env, &caller).await,
        (Route::TestReminder(cart, step), _) => reminders::test_enqueue(cart, step, &path, &req, env, &caller).await,
        (Route::Returns, Get) => returns::list(&req, env, &caller).await,
        (Route::Returns, _) => returns::open(&mut req, env, &caller).await,
        (Route::Return(id), _) => returns::get(id, env, &caller).await,
        (Route::ReturnAction(id, action), _) => returns::act(id, action, &mut req, env, &caller).await,
        (Route::ExpectedReturns(id), _) => returns::expected(id, env, &caller).await,
        (Route::DamagedUnits(id), _) => returns::damaged(id, env, &caller).await,
        (Route::DamagedWriteOffs(id), _) => returns::write_off(id, &mut req, env, &caller).await,
        (Route::StoreCredit(id), _) => returns::store_credit(id, env, &caller).await,
        (Route::Health | Route::DeepHealth | Route::OpenApi | Route::Unsubscribe | Route::ReminderClick(_) | Route::ReminderShown(_), _) => {
            unreachable!("public routes are answered above")
        }
    }
}
