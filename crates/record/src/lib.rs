//! `#[record]`: a resource is declared once, as its domain type, and the attribute writes
//! the rest of what the domain crate needs of it:
//!
//! - the domain type itself, with the API's derives (`Serialize`, `SimpleObject` named
//!   `<Name>Fields`, `ToSchema`) behind the crate's `api` feature;
//! - `<Name>Input`, what a caller sends (strings where the domain type has a checked value,
//!   so that a bad word is a 422 naming the field, not a deserialisation error), deriving
//!   `Deserialize`, `InputObject` and `ToSchema`;
//! - `<Name>::parse_fields(&input, &mut collector)`, every field checked on its own, each
//!   error under the field's camelCase name, into `<Name>Parts` (an `Option` per field),
//!   whose `build()` gives the domain value once every part is there; the rules between
//!   fields are written by hand between the two;
//! - with `#[record(input = …, parse)]`, `<Name>::parse(input)` for a resource with no
//!   rules between fields.
//!
//! On a field, `#[record(…)]` says how the input becomes the value:
//!
//! | attribute | input field | value |
//! | --- | --- | --- |
//! | (none) | the same type | taken as sent |
//! | `parse = EXPR` | `input = TYPE`, or the same type | `EXPR` (a `Result<T, Reason>`) with the field's name bound to `&input.field`; a function's path: called with `&input.field` |
//! | `present = EXPR` | an `Option` | `None` if absent or blank, else `EXPR` with the name bound to the sent value; a function's path: called with a reference to it |
//! | `word` | `String` (an enum in OpenAPI) | `T::parse(&input.field)` |
//! | `text = MAX` | the same type | trimmed text of at most `MAX` characters (`Option`: blank is `None`) |
//! | `period` | `starts_on` and `ends_on` | a `Period` (errors under `endsOn`) |
//! | `custom` | `input = TYPE`, or the same type | left to the hand-written rules (`parts.field = …`) |
//! | `derived` | none | left to the hand-written rules, from other input fields |
//! | `input_only` | as declared | not in the domain type |
//!
//! `default` gives the input field serde's and GraphQL's default; `owner` marks the owning
//! organisation (default, documented as "may be left out"); `#[input(…)]` puts an attribute
//! on the input field only (`#[input(doc = "…")]` replaces the field's documentation there).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{
    Attribute, Expr, Fields, Ident, ItemStruct, LitStr, Type, Visibility, parse_macro_input,
};

#[proc_macro_attribute]
pub fn record(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: Option<Ident> = None;
    let mut parse = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("input") {
            input = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("parse") {
            parse = true;
            Ok(())
        } else {
            Err(meta.error("expected `input = NameInput` or `parse`"))
        }
    });
    parse_macro_input!(args with parser);
    let item = parse_macro_input!(item as ItemStruct);
    let Some(input) = input else {
        return syn::Error::new_spanned(&item.ident, "#[record] needs `input = NameInput`")
            .to_compile_error()
            .into();
    };
    match expand(item, input, parse) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

enum Rule {
    Keep,
    Parse(Expr),
    Present(Expr),
    Word,
    Text(Expr),
    Period,
    Custom,
}

struct Field {
    vis: Visibility,
    ident: Ident,
    ty: Type,
    input_ty: Option<Type>,
    rule: Rule,
    docs: Vec<Attribute>,
    input_docs: Vec<Tokens>,
    input_attrs: Vec<Tokens>,
    output_attrs: Vec<Attribute>,
    input_only: bool,
    derived: bool,
    default: bool,
    owner: bool,
}

fn read_field(f: syn::Field) -> syn::Result<Field> {
    let ident = f
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new_spanned(&f, "#[record] needs named fields"))?;
    let mut field = Field {
        vis: f.vis,
        ident,
        ty: f.ty,
        input_ty: None,
        rule: Rule::Keep,
        docs: Vec::new(),
        input_docs: Vec::new(),
        input_attrs: Vec::new(),
        output_attrs: Vec::new(),
        input_only: false,
        derived: false,
        default: false,
        owner: false,
    };
    for attr in f.attrs {
        if attr.path().is_ident("doc") {
            field.docs.push(attr);
        } else if attr.path().is_ident("input") {
            let tokens = attr.meta.require_list()?.tokens.clone();
            let is_doc = matches!(tokens.clone().into_iter().next(),
                Some(proc_macro2::TokenTree::Ident(i)) if i == "doc");
            if is_doc {
                field.input_docs.push(quote!(#[#tokens]));
            } else {
                field.input_attrs.push(quote!(#[#tokens]));
            }
        } else if attr.path().is_ident("record") {
            attr.parse_nested_meta(|meta| {
                let set = |field: &mut Field, rule: Rule| {
                    if !matches!(field.rule, Rule::Keep) {
                        return Err(meta.error("a field has one of parse, present, word, text, period, custom"));
                    }
                    field.rule = rule;
                    Ok(())
                };
                if meta.path.is_ident("parse") {
                    set(&mut field, Rule::Parse(meta.value()?.parse()?))
                } else if meta.path.is_ident("present") {
                    set(&mut field, Rule::Present(meta.value()?.parse()?))
                } else if meta.path.is_ident("text") {
                    set(&mut field, Rule::Text(meta.value()?.parse()?))
                } else if meta.path.is_ident("period") {
                    set(&mut field, Rule::Period)
                } else if meta.path.is_ident("word") {
                    set(&mut field, Rule::Word)
                } else if meta.path.is_ident("custom") {
                    set(&mut field, Rule::Custom)
                } else if meta.path.is_ident("input") {
                    field.input_ty = Some(meta.value()?.parse()?);
                    Ok(())
                } else if meta.path.is_ident("derived") {
                    field.derived = true;
                    set(&mut field, Rule::Custom)
                } else if meta.path.is_ident("input_only") {
                    field.input_only = true;
                    Ok(())
                } else if meta.path.is_ident("default") {
                    field.default = true;
                    Ok(())
                } else if meta.path.is_ident("owner") {
                    field.owner = true;
                    Ok(())
                } else {
                    Err(meta.error(
                        "expected parse = …, present = …, word, text = MAX, period, custom, derived, input = TYPE, \
                         input_only, default or owner",
                    ))
                }
            })?;
        } else {
            field.output_attrs.push(attr);
        }
    }
    Ok(field)
}

/// Whether the type is written `Option<…>`.
fn optional(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// `external_id` → `externalId`, as serde's and async-graphql's camelCase name it.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for ch in name.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

fn expand(item: ItemStruct, input: Ident, parse: bool) -> syn::Result<Tokens> {
    let Fields::Named(named) = item.fields else {
        return Err(syn::Error::new_spanned(
            &item.ident,
            "#[record] needs named fields",
        ));
    };
    let fields = named
        .named
        .into_iter()
        .map(read_field)
        .collect::<syn::Result<Vec<_>>>()?;
    let name = &item.ident;
    let vis = &item.vis;
    let attrs = &item.attrs;
    let parts = format_ident!("{}Parts", name);
    let graphql_name = LitStr::new(&format!("{name}Fields"), name.span());

    let input_fields = fields.iter().filter(|f| !f.derived).map(|f| {
        let ident = &f.ident;
        let ty = match (&f.input_ty, &f.rule) {
            (Some(t), _) => quote!(#t),
            (None, Rule::Word) => quote!(::std::string::String),
            (None, _) => {
                let t = &f.ty;
                quote!(#t)
            }
        };
        let docs: Vec<Tokens> = if f.owner && f.input_docs.is_empty() {
            vec![
                quote!(#[doc = " The owning organisation; an organisation's token may leave it out (its own)."]),
            ]
        } else if f.input_docs.is_empty() {
            f.docs.iter().map(|d| quote!(#d)).collect()
        } else {
            f.input_docs.clone()
        };
        let default = (f.default || f.owner).then(|| {
            quote! {
                #[serde(default)]
                #[cfg_attr(feature = "api", graphql(default))]
            }
        });
        let word = matches!(f.rule, Rule::Word).then(|| {
            let t = &f.ty;
            quote!(#[cfg_attr(feature = "api", schema(value_type = #t))])
        });
        let extra = &f.input_attrs;
        if matches!(f.rule, Rule::Period) {
            return quote! {
                pub starts_on: ::chrono::NaiveDate,
                pub ends_on: ::core::option::Option<::chrono::NaiveDate>,
            };
        }
        quote! {
            #(#docs)*
            #default
            #word
            #(#extra)*
            pub #ident: #ty,
        }
    });

    let kept: Vec<&Field> = fields.iter().filter(|f| !f.input_only).collect();
    let output_fields = kept.iter().map(|f| {
        let (vis, ident, ty, docs, extra) = (&f.vis, &f.ident, &f.ty, &f.docs, &f.output_attrs);
        quote! {
            #(#docs)*
            #(#extra)*
            #vis #ident: #ty,
        }
    });
    let part_fields = kept.iter().map(|f| {
        let (ident, ty) = (&f.ident, &f.ty);
        quote!(pub #ident: ::core::option::Option<#ty>,)
    });
    let checks = kept.iter().map(|f| {
        let ident = &f.ident;
        let wire = LitStr::new(&camel(&ident.to_string()), ident.span());
        let ty = &f.ty;
        let value = match &f.rule {
            Rule::Keep => {
                quote!(::core::option::Option::Some(::core::clone::Clone::clone(&input.#ident)))
            }
            Rule::Parse(Expr::Path(f)) => quote!(c.check(#wire, #f(&input.#ident))),
            Rule::Parse(e) => quote!(c.check(#wire, { let #ident = &input.#ident; #e })),
            Rule::Present(Expr::Path(f)) => quote! {
                c.check_opt(
                    #wire,
                    crate::values::present(::core::clone::Clone::clone(&input.#ident)),
                    |v| #f(&v),
                )
            },
            Rule::Present(e) => quote! {
                c.check_opt(
                    #wire,
                    crate::values::present(::core::clone::Clone::clone(&input.#ident)),
                    |#ident| #e,
                )
            },
            Rule::Word => quote!(c.check(#wire, <#ty>::parse(&input.#ident))),
            Rule::Text(max) if optional(ty) => quote! {
                c.check(#wire, crate::values::optional_text(input.#ident.as_deref(), #max))
            },
            Rule::Text(max) => quote!(c.check(#wire, crate::values::text(&input.#ident, #max))),
            Rule::Period => quote! {
                c.check("endsOn", crate::values::Period::parse(input.starts_on, input.ends_on))
            },
            Rule::Custom => quote!(::core::option::Option::None),
        };
        quote!(#ident: #value,)
    });
    let builds = kept.iter().map(|f| {
        let ident = &f.ident;
        quote!(#ident: self.#ident?,)
    });
    let parse_fn = parse.then(|| {
        quote! {
            /// Checks the input (every rule of this resource is a rule of one field).
            pub fn parse(input: #input) -> ::core::result::Result<#name, crate::error::ValidationErrors> {
                let mut c = crate::error::Collector::new();
                let parts = Self::parse_fields(&input, &mut c);
                c.finish(|| parts.build())
            }
        }
    });

    Ok(quote! {
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
        pub struct #input {
            #(#input_fields)*
        }

        #(#attrs)*
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(
            feature = "api",
            derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
        )]
        #[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
        #[cfg_attr(feature = "api", graphql(name = #graphql_name, visible = false))]
        #vis struct #name {
            #(#output_fields)*
        }

        /// What of each field passed its own check (`None`: refused, or left to the rules
        /// between fields).
        #[derive(Debug, Clone)]
        #vis struct #parts {
            #(#part_fields)*
        }

        impl #parts {
            /// The value, once every part is there.
            pub fn build(self) -> ::core::option::Option<#name> {
                ::core::option::Option::Some(#name {
                    #(#builds)*
                })
            }
        }

        impl #name {
            /// Checks each field of `input` on its own, recording what is wrong under the
            /// field's name.
            pub fn parse_fields(input: &#input, c: &mut crate::error::Collector) -> #parts {
                #parts {
                    #(#checks)*
                }
            }
            #parse_fn
        }
    })
}
