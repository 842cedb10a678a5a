//! The `#[tulip::main]` and `#[tulip::test]` attributes.
//!
//! Used through the `tulip` facade crate (`#[tulip::main]`,
//! `#[tulip::test]`), whose docs show them; the code they generate calls
//! into the facade. Misuse (a function that is not `async`, arguments,
//! generics, an unknown option) is a compile error that says what to write
//! instead.
//!
//! ```
//! use std::time::Duration;
//!
//! #[tulip::main]
//! async fn main() {
//!     // Runs on a fresh event loop, as `asyncio.run(main())` does.
//!     let answer = tulip::spawn(async {
//!         tulip::sleep(Duration::from_millis(1)).await;
//!         6 * 7
//!     });
//!     assert_eq!(answer.await.unwrap(), 42);
//! }
//! ```

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Runs `async fn main` on a tulip event loop (asyncio's `asyncio.run`), or
/// with `flavor = "multi_thread"` (and optionally `worker_threads = N`) on
/// the multi-thread runtime. See the `tulip` crate's docs.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(Kind::Main, args, item)
}

/// Runs an `async fn` test on a fresh tulip event loop (`virtual_time` puts
/// the loop on a virtual clock), or with `flavor = "multi_thread"` on the
/// multi-thread runtime. See the `tulip` crate's docs.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(Kind::Test, args, item)
}

/// The expansion, or the error followed by a stand-in for the function, so
/// that the error is the only one the user sees (no "`main` not found").
fn attribute(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    match expand(kind, args.into(), item.clone()) {
        Ok(expanded) => expanded.into(),
        Err(error) => {
            let mut output = error.into_compile_error();
            if let Ok(function) = syn::parse2::<ItemFn>(item) {
                output.extend(stand_in(function));
            }
            output.into()
        }
    }
}

/// The function with its signature made plain (not async, no arguments, no
/// generics) and a body that never returns; only ever compiled next to a
/// compile error.
fn stand_in(mut function: ItemFn) -> TokenStream2 {
    function.sig.asyncness = None;
    function.sig.inputs = Punctuated::new();
    function.sig.generics = syn::Generics::default();
    *function.block =
        syn::parse_quote!({ ::core::panic!("see the compile error of the tulip attribute") });
    quote!(#function)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[tulip::main]",
            Kind::Test => "#[tulip::test]",
        }
    }

    fn options(self) -> &'static str {
        match self {
            Kind::Main => {
                "`flavor = \"loop\"` (the default), `flavor = \"multi_thread\"` and `worker_threads = N`"
            }
            Kind::Test => {
                "`virtual_time`, `flavor = \"loop\"` (the default), `flavor = \"multi_thread\"` and `worker_threads = N`"
            }
        }
    }
}

/// What the attribute's arguments asked for.
struct Options {
    multi_thread: bool,
    worker_threads: Option<(usize, Span)>,
    virtual_time: Option<Span>,
}

fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let options = parse_options(kind, args)?;
    let function: ItemFn = syn::parse2(item)?;
    check_signature(kind, &function)?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let mut body_sig = sig.clone();
    body_sig.ident = syn::Ident::new("__tulip_body", sig.ident.span());
    let mut outer_sig = sig;
    outer_sig.asyncness = None;
    let run = if options.multi_thread {
        let workers = match options.worker_threads {
            Some((n, _)) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        quote!(::tulip::__macro_support::run_on_runtime(#workers, __tulip_body()))
    } else {
        let virtual_time = options.virtual_time.is_some();
        quote!(::tulip::__macro_support::run_on_loop(#virtual_time, __tulip_body()))
    };
    let test_attribute = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    // The body stays an `async fn` of the same signature, so that `return`
    // and `?` in it are typed exactly as the user wrote them.
    Ok(quote! {
        #test_attribute
        #(#attrs)*
        #vis #outer_sig {
            #body_sig #block
            #run
        }
    })
}

fn check_signature(kind: Kind, function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    let attribute = kind.attribute();
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("{attribute} goes on an `async fn`: add `async` before `fn`"),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("{attribute} takes a function without arguments"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("{attribute} takes a function without generic parameters"),
        ));
    }
    Ok(())
}

fn parse_options(kind: Kind, args: TokenStream2) -> syn::Result<Options> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut options = Options {
        multi_thread: false,
        worker_threads: None,
        virtual_time: None,
    };
    let mut flavor_span = None;
    for meta in metas {
        match &meta {
            Meta::NameValue(pair) if pair.path.is_ident("flavor") => {
                let flavor = string_value(&pair.value, "flavor")?;
                options.multi_thread = match flavor.as_str() {
                    "loop" => false,
                    "multi_thread" => true,
                    other => {
                        return Err(syn::Error::new(
                            pair.value.span(),
                            format!(
                                "unknown flavor \"{other}\": expected \"loop\" or \"multi_thread\""
                            ),
                        ));
                    }
                };
                flavor_span = Some(pair.value.span());
            }
            Meta::NameValue(pair) if pair.path.is_ident("worker_threads") => {
                let workers = usize_value(&pair.value, "worker_threads")?;
                if workers == 0 {
                    return Err(syn::Error::new(
                        pair.value.span(),
                        "worker_threads must be at least 1",
                    ));
                }
                options.worker_threads = Some((workers, pair.value.span()));
            }
            Meta::Path(path) if kind == Kind::Test && path.is_ident("virtual_time") => {
                options.virtual_time = Some(path.span());
            }
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!(
                        "unknown option for {}: it takes {}",
                        kind.attribute(),
                        kind.options()
                    ),
                ));
            }
        }
    }
    if let Some((_, span)) = options.worker_threads
        && !options.multi_thread
    {
        return Err(syn::Error::new(
            span,
            "worker_threads needs flavor = \"multi_thread\" (the event loop runs on one thread)",
        ));
    }
    if let Some(span) = options.virtual_time
        && options.multi_thread
    {
        return Err(syn::Error::new(
            flavor_span.unwrap_or(span),
            "virtual_time needs the event loop: it cannot be combined with flavor = \"multi_thread\"",
        ));
    }
    Ok(options)
}

fn string_value(value: &Expr, name: &str) -> syn::Result<String> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text.value()),
        other => Err(syn::Error::new(
            other.span(),
            format!("{name} takes a string, e.g. {name} = \"multi_thread\""),
        )),
    }
}

fn usize_value(value: &Expr, name: &str) -> syn::Result<usize> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(number),
            ..
        }) => number.base10_parse(),
        other => Err(syn::Error::new(
            other.span(),
            format!("{name} takes a whole number, e.g. {name} = 4"),
        )),
    }
}
